package aws

import (
	"os"
	"strings"
	"testing"
)

// TestTemplateChecksCatch proves the checks can fail: each case breaks the
// committed template in one place and names the problem it must cause.
func TestTemplateChecksCatch(t *testing.T) {
	tests := []struct {
		name      string
		old, new  string // replaced exactly once
		amp       bool
		wantProbl string
	}{
		{name: "wildcard action", old: "Action: [sqs:ReceiveMessage,", new: "Action: [sqs:*,",
			wantProbl: `wildcard action "sqs:*"`},
		{name: "wildcard resource", old: "                Resource: !Ref GitTokenSecret\n", new: "                Resource: \"*\"\n",
			wantProbl: `wildcard resource "*"`},
		{name: "foreign resource", old: "                Resource: !Ref GitTokenSecret\n",
			new: "                Resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:other\n", wantProbl: "is not a resource of this stack"},
		{name: "extra permission", old: "                Resource: !Ref GitTokenSecret\n",
			new: "                Resource: [!Ref GitTokenSecret, !Ref SlackSecret]\n", wantProbl: "which worker does not need"},
		{name: "missing permission", old: "Action: [sqs:ReceiveMessage, sqs:DeleteMessage,", new: "Action: [sqs:ReceiveMessage,",
			wantProbl: "lacks sqs:DeleteMessage"},
		{name: "managed policy", old: "  WorkerRole:\n    Type: AWS::IAM::Role\n    Properties:\n",
			new:       "  WorkerRole:\n    Type: AWS::IAM::Role\n    Properties:\n      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]\n",
			wantProbl: "managed policies"},
		{name: "x86 architecture", old: "Architectures: [arm64]", new: "Architectures: [x86_64]", wantProbl: "architectures [x86_64]"},
		{name: "old runtime", old: "Runtime: provided.al2023", new: "Runtime: provided.al2", wantProbl: `runtime "provided.al2"`},
		{name: "unknown handler", old: "Handler: worker", new: "Handler: wroker", wantProbl: `handler "wroker"`},
		{name: "second zip", old: "      Handler: schedule\n", new: "      Handler: schedule\n      CodeUri: schedule.zip\n",
			wantProbl: "ScheduleFunction: CodeUri"},
		{name: "no reserved concurrency", old: "      ReservedConcurrentExecutions: 1\n", new: "",
			wantProbl: "ScheduleFunction: reserved concurrency"},
		{name: "no log retention", old: "      LogGroupName: !Sub \"/aws/lambda/${AWS::StackName}-worker\"\n      RetentionInDays: !Ref LogRetentionDays\n",
			new: "      LogGroupName: !Sub \"/aws/lambda/${AWS::StackName}-worker\"\n", wantProbl: "WorkerLogGroup: RetentionInDays"},
		{name: "log group of another name", old: `LogGroupName: !Sub "/aws/lambda/${AWS::StackName}-chatops"`,
			new: `LogGroupName: !Sub "/aws/lambda/chatops"`, wantProbl: "ChatopsFunction: no log group"},
		{name: "standard queue", old: "      FifoQueue: true\n      ContentBasedDeduplication: true\n", new: "",
			wantProbl: "DecisionQueue: must be a FIFO queue"},
		{name: "no dead-letter queue", old: "deadLetterTargetArn: !GetAtt DecisionDeadLetterQueue.Arn", new: "deadLetterTargetArn: arn:aws:sqs:us-east-1:123456789012:x",
			wantProbl: "RedrivePolicy must name a dead-letter queue"},
		{name: "short visibility", old: "VisibilityTimeout: 540", new: "VisibilityTimeout: 60", wantProbl: "VisibilityTimeout must be at least"},
		{name: "secret in environment", old: "BIRDWATCH_SLACK_SIGNING_SECRET_SECRET_ID: !Ref SlackSecret",
			new: "BIRDWATCH_SLACK_SIGNING_SECRET_SECRET_ID: replace-me", wantProbl: "holds a secret value"},
		{name: "dangling reference", old: "BIRDWATCH_QUEUE_URL: !Ref DecisionQueue\n          BIRDWATCH_SLACK",
			new: "BIRDWATCH_QUEUE_URL: !Ref DecisionQueues\n          BIRDWATCH_SLACK", wantProbl: "ChatopsFunction: BIRDWATCH_QUEUE_URL is empty"},
		{name: "no room for the cache", old: "    EphemeralStorage:\n      Size: !Ref EphemeralStorageMB\n", new: "",
			wantProbl: "WorkerFunction: EphemeralStorage.Size must be set"},
		{name: "batch failures ignored", old: "            FunctionResponseTypes: [ReportBatchItemFailures]", new: "",
			wantProbl: "FunctionResponseTypes must be"},
		{name: "amp workspace of another account", old: "                  Resource: !Ref AmpWorkspaceArn\n          - !Ref AWS::NoValue\n\n  # ---- a job",
			new: "                  Resource: arn:aws:aps:eu-west-1:999999999999:workspace/ws-other\n          - !Ref AWS::NoValue\n\n  # ---- a job",
			amp: true, wantProbl: "is not a resource of this stack"},
		{name: "wrong route", old: "Path: /slack", new: "Path: /chat", wantProbl: "want POST /slack"},
		{name: "output of another route", old: `${AWS::URLSuffix}/slack"`, new: `${AWS::URLSuffix}/chat"`, wantProbl: "Outputs.SlackUrl"},
		{name: "another action on the CloudWatch wildcard", amp: true,
			old: "Action: cloudwatch:GetMetricData # no resource-level permissions exist for it", new: "Action: [cloudwatch:GetMetricData, s3:GetObject]",
			wantProbl: `wildcard resource "*"`},
		{name: "worker on another queue", old: "Queue: !GetAtt DecisionQueue.Arn", new: "Queue: !GetAtt DecisionDeadLetterQueue.Arn",
			wantProbl: "want the DecisionQueue"},
	}
	data, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := strings.Count(string(data), tt.old); n != 1 {
				t.Fatalf("the mutation's text occurs %d times in the template, want 1: %q", n, tt.old)
			}
			params := testParams(tt.amp)
			tpl, err := parse([]byte(strings.Replace(string(data), tt.old, tt.new, 1)), params)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			amp, _ := params["AmpWorkspaceArn"].(string)
			problems := checkTemplate(tpl, amp)
			for _, p := range problems {
				if strings.Contains(p, tt.wantProbl) {
					return
				}
			}
			t.Errorf("no problem containing %q; got %q", tt.wantProbl, problems)
		})
	}
}
