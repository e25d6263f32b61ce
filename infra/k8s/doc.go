// Package k8s holds birdwatch's Kustomize manifests for running in a cluster:
// `birdwatch serve` as a Deployment behind a Service (this folder) or
// `birdwatch run --once` as a CronJob (cronjob/), both on a shared base of a
// namespace, a service account with read-only RBAC for the sync gate, and the
// settings. Its tests build them with kustomize and decode them with
// client-go's scheme. It has no Go API.
package k8s
