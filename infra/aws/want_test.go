package aws

// handlerNames are the Lambda handlers of the one bootstrap binary; the
// template must run each exactly once (Lambda passes Handler as _HANDLER).
var handlerNames = []string{"webhook", "chatops", "schedule", "worker"}

// grant is one allowed (action, resource) pair of a role.
type grant struct{ Action, Resource string }

// wantGrants is the least-privilege contract, per handler: every permission
// its role holds, and nothing else. Resources are markers (see parse).
// Changing a role means changing this table, in review.
func wantGrants(ampArn string) map[string][]grant {
	logs := func(group string) []grant {
		arn := "getatt:" + group + ".Arn"
		return []grant{{"logs:CreateLogStream", arn}, {"logs:PutLogEvents", arn}}
	}
	secret := func(names ...string) []grant {
		var g []grant
		for _, n := range names {
			g = append(g, grant{"secretsmanager:GetSecretValue", "ref:" + n})
		}
		return g
	}
	enqueue := []grant{{"sqs:SendMessage", "getatt:DecisionQueue.Arn"}}
	var dequeue []grant
	for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"} {
		dequeue = append(dequeue, grant{a, "getatt:DecisionQueue.Arn"})
	}
	var prometheus []grant
	if ampArn != "" {
		for _, a := range []string{"aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"} {
			prometheus = append(prometheus, grant{a, ampArn})
		}
		// The same variant (testParams) turns on CloudWatch and the metrics
		// and Prometheus token secrets.
		prometheus = append(prometheus, grant{"cloudwatch:GetMetricData", "*"})
		prometheus = append(prometheus, secret("MetricsSecret", "PrometheusTokenSecret")...)
	}
	return map[string][]grant{
		// webhook runs the loop itself (a Lambda may not work after it answers).
		"webhook":  concat(logs("WebhookLogGroup"), secret("WebhookSecret", "GitTokenSecret"), prometheus),
		"chatops":  concat(logs("ChatopsLogGroup"), secret("SlackSecret"), enqueue),
		"schedule": concat(logs("ScheduleLogGroup"), enqueue),
		"worker":   concat(logs("WorkerLogGroup"), secret("GitTokenSecret"), dequeue, prometheus),
	}
}

// wantEvent is the one trigger each handler has.
type wantEvent struct {
	Type, Method, Path string
}

var wantEvents = map[string]wantEvent{
	"webhook":  {Type: "HttpApi", Method: "POST", Path: "/webhook"},
	"chatops":  {Type: "HttpApi", Method: "POST", Path: "/slack"},
	"schedule": {Type: "Schedule"},
	"worker":   {Type: "SQS"},
}

// wantOutputs maps each URL output to the route it must name.
var wantOutputs = map[string]string{"WebhookUrl": "/webhook", "SlackUrl": "/slack"}

func concat(gs ...[]grant) []grant {
	var out []grant
	for _, g := range gs {
		out = append(out, g...)
	}
	return out
}
