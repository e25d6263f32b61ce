// Package aws holds birdwatch's AWS SAM template (template.yaml: four
// functions from one bootstrap zip, an HTTP API, an EventBridge schedule, an
// SQS FIFO fan-out queue with a dead-letter queue, Secrets Manager secrets and
// least-privilege roles) and the tests that validate it with goformation.
// It has no Go API; `make package` builds the zip the template deploys.
package aws
