package aws

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/cloudformation/sqs"
)

// queues checks the fan-out queue: FIFO, encrypted, a FIFO dead-letter queue
// after a bounded number of receives, and a visibility timeout of at least
// six times the worker's timeout (AWS's advice for SQS event sources).
func (c *checker) queues() {
	q, err := c.tpl.GetSQSQueueWithName("DecisionQueue")
	if err != nil {
		c.addf("DecisionQueue: %v", err)
		return
	}
	c.fifo("DecisionQueue", q)
	redrive, _ := q.RedrivePolicy.(map[string]any)
	dlqName, ok := strings.CutPrefix(fmt.Sprint(redrive["deadLetterTargetArn"]), "getatt:")
	dlqName, ok2 := strings.CutSuffix(dlqName, ".Arn")
	if !ok || !ok2 {
		c.addf("DecisionQueue: RedrivePolicy must name a dead-letter queue of this stack")
	} else if dlq, err := c.tpl.GetSQSQueueWithName(dlqName); err != nil {
		c.addf("DecisionQueue: dead-letter queue %s: %v", dlqName, err)
	} else {
		c.fifo(dlqName, dlq)
	}
	if n, _ := redrive["maxReceiveCount"].(float64); n < 1 || n > 10 {
		c.addf("DecisionQueue: maxReceiveCount %v, want 1-10", redrive["maxReceiveCount"])
	}
	worker := c.function("worker")
	if worker == nil || worker.Timeout == nil {
		return
	}
	if q.VisibilityTimeout == nil || *q.VisibilityTimeout < 6**worker.Timeout {
		c.addf("DecisionQueue: VisibilityTimeout must be at least 6 x the worker's Timeout (%d s)", *worker.Timeout)
	}
}

func (c *checker) fifo(name string, q *sqs.Queue) {
	if !deref(q.FifoQueue) || !strings.HasSuffix(deref(q.QueueName), ".fifo") {
		c.addf("%s: must be a FIFO queue named *.fifo", name)
	}
	if !deref(q.SqsManagedSseEnabled) && q.KmsMasterKeyId == nil {
		c.addf("%s: must be encrypted at rest", name)
	}
}

// logGroups checks that each function writes to a log group of this stack
// with a retention, and that every log group has one.
func (c *checker) logGroups() {
	groups := c.tpl.GetAllLogsLogGroupResources()
	byName := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		g := groups[name]
		if deref(g.RetentionInDays) < 1 {
			c.addf("%s: RetentionInDays must be set", name)
		}
		byName[deref(g.LogGroupName)] = name
	}
	fns := c.tpl.GetAllServerlessFunctionResources()
	for _, name := range slices.Sorted(maps.Keys(fns)) {
		want := "/aws/lambda/" + deref(fns[name].FunctionName)
		if byName[want] == "" {
			c.addf("%s: no log group named %s in the stack", name, want)
		}
	}
}

// secrets checks that the Git token, webhook and Slack secrets live in
// Secrets Manager, reach the functions only as ARNs, and are each used.
func (c *checker) secrets() {
	secrets := c.tpl.GetAllSecretsManagerSecretResources()
	for _, want := range []string{"GitTokenSecret", "WebhookSecret", "SlackSecret"} {
		if secrets[want] == nil {
			c.addf("template: no Secrets Manager secret %s", want)
		}
	}
	values := map[string]bool{}
	for _, s := range secrets {
		if v := deref(s.SecretString); v != "" {
			values[v] = true
		}
	}
	fns := c.tpl.GetAllServerlessFunctionResources()
	for _, name := range slices.Sorted(maps.Keys(fns)) {
		env := c.env(fns[name])
		for _, k := range slices.Sorted(maps.Keys(env)) {
			v := env[k]
			if v == "" && optionalEnv[k] {
				continue // !If [..., AWS::NoValue]: CloudFormation drops it; goformation leaves ""
			}
			if (v == "" && k != "BIRDWATCH_PROMETHEUS_SIGV4_REGION") || strings.Contains(v, "<unresolved") {
				c.addf("%s: %s is empty or unresolved (%q)", name, k, v)
			}
			if values[v] {
				c.addf("%s: %s holds a secret value; pass the secret's ARN", name, k)
			}
			if strings.HasSuffix(k, "_SECRET_ID") {
				if r, ok := strings.CutPrefix(v, "ref:"); !ok || secrets[r] == nil {
					c.addf("%s: %s must be !Ref of a secret in this stack", name, k)
				}
			}
		}
	}
}

// optionalEnv are the variables the template sets only when a parameter
// turns their feature on.
var optionalEnv = map[string]bool{
	"BIRDWATCH_PROMETHEUS_BEARER_TOKEN_SECRET_ID": true,
	"BIRDWATCH_PROMETHEUS_HEADERS":                true,
	"BIRDWATCH_METRICS_SECRETS_SECRET_ID":         true,
}

// outputs checks the URL outputs name the stack's HTTP API and the routes.
func (c *checker) outputs() {
	for _, name := range slices.Sorted(maps.Keys(wantOutputs)) {
		out, ok := c.tpl.Outputs[name]
		v := fmt.Sprint(out.Value)
		if !ok || !strings.HasPrefix(v, "https://ref:HttpApi.execute-api.") || !strings.HasSuffix(v, wantOutputs[name]) {
			c.addf("Outputs.%s: want the HttpApi URL ending in %s, got %q", name, wantOutputs[name], v)
		}
	}
}

// env returns a function's effective environment: Globals, then its own.
func (c *checker) env(fn *serverless.Function) map[string]string {
	env := map[string]string{}
	for _, e := range []*serverless.Function_FunctionEnvironment{c.globals.Environment, fn.Environment} {
		if e != nil {
			maps.Copy(env, e.Variables)
		}
	}
	return env
}

// function returns the function running handler, or nil.
func (c *checker) function(handler string) *serverless.Function {
	for _, fn := range c.tpl.GetAllServerlessFunctionResources() {
		if deref(fn.Handler) == handler {
			return fn
		}
	}
	return nil
}

// sqsEvent checks the worker's queue trigger. It reads the processed JSON,
// not goformation's model: v7.14.9's SAM schema predates the SQS event's
// FunctionResponseTypes and ScalingConfig (its decoder drops such an event).
// Without ReportBatchItemFailures, Lambda ignores the failures the worker
// reports and deletes those messages: they would never be retried.
func (c *checker) sqsEvent(where string, p map[string]any) {
	if p["Queue"] != "getatt:DecisionQueue.Arn" {
		c.addf("%s: want the DecisionQueue", where)
	}
	if n, _ := p["BatchSize"].(float64); n < 1 || n > 10 {
		c.addf("%s: BatchSize must be 1-10 (FIFO)", where)
	}
	if !slices.Equal(strs(p["FunctionResponseTypes"]), []string{"ReportBatchItemFailures"}) {
		c.addf("%s: FunctionResponseTypes must be [ReportBatchItemFailures] (the worker reports failed messages)", where)
	}
	sc, _ := p["ScalingConfig"].(map[string]any)
	if n, _ := sc["MaximumConcurrency"].(float64); n < 2 {
		c.addf("%s: ScalingConfig.MaximumConcurrency must be set (2 or more)", where)
	}
}

// rawEventProperties returns Resources.<fn>.Properties.Events.<ev>.Properties.
func (c *checker) rawEventProperties(fn, ev string) map[string]any {
	m := c.raw
	for _, k := range []string{"Resources", fn, "Properties", "Events", ev, "Properties"} {
		m, _ = m[k].(map[string]any)
	}
	return m
}
