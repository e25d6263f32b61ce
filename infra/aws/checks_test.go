package aws

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/global"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
)

// The settings every function must have, from the function or from Globals.
const (
	wantRuntime = "provided.al2023"
	wantArch    = "arm64"
	wantCodeURI = "../../bin/bootstrap.zip" // `make package` writes bin/bootstrap.zip
)

// checker collects the problems of one parsed template.
type checker struct {
	tpl      *cloudformation.Template
	raw      map[string]any // the processed template as JSON (see sqsEvent)
	ampArn   string
	globals  *global.Function
	problems []string
}

// checkTemplate returns every problem found in s, sorted; ampArn is the
// AmpWorkspaceArn parameter value it was parsed with ("" for none).
func checkTemplate(s *stack, ampArn string) []string {
	tpl := s.tpl
	c := &checker{tpl: tpl, raw: s.raw, ampArn: ampArn, globals: &global.Function{}}
	if g, err := tpl.GetServerlessGlobalFunction(); err == nil {
		c.globals = g
	}
	if tpl.Transform == nil || tpl.Transform.String == nil || *tpl.Transform.String != "AWS::Serverless-2016-10-31" {
		c.addf("template: Transform must be AWS::Serverless-2016-10-31")
	}
	c.functions()
	c.roles()
	c.queues()
	c.logGroups()
	c.secrets()
	c.outputs()
	sort.Strings(c.problems)
	return c.problems
}

func (c *checker) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// functions checks each function's settings, role grants and trigger, and
// that every handler is deployed exactly once.
func (c *checker) functions() {
	fns := c.tpl.GetAllServerlessFunctionResources()
	seen := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(fns)) {
		fn := fns[name]
		h := deref(fn.Handler)
		switch {
		case !slices.Contains(handlerNames, h):
			c.addf("%s: handler %q is not one of %v", name, h, handlerNames)
			continue
		case seen[h] != "":
			c.addf("%s: handler %q already deployed by %s", name, h, seen[h])
			continue
		}
		seen[h] = name
		c.settings(name, fn)
		c.grants(name, h, fn)
		c.event(name, h, fn)
	}
	for _, h := range handlerNames {
		if seen[h] == "" {
			c.addf("template: no function runs handler %q", h)
		}
	}
}

// settings checks runtime, architecture, code, concurrency, memory and timeout.
func (c *checker) settings(name string, fn *serverless.Function) {
	if rt := firstNonEmpty(deref(fn.Runtime), deref(c.globals.Runtime)); rt != wantRuntime {
		c.addf("%s: runtime %q, want %q", name, rt, wantRuntime)
	}
	arch := fn.Architectures
	if arch == nil {
		arch = deref(c.globals.Architectures)
	}
	if !slices.Equal(arch, []string{wantArch}) {
		c.addf("%s: architectures %v, want [%s]", name, arch, wantArch)
	}
	code := fn.CodeUri
	if code == nil {
		code = c.globals.CodeUri
	}
	if code == nil || deref(code.String) != wantCodeURI {
		c.addf("%s: CodeUri must be %s, the one bootstrap zip", name, wantCodeURI)
	}
	if fn.InlineCode != nil || fn.ImageUri != nil || fn.Layers != nil || c.globals.Layers != nil {
		c.addf("%s: no inline code, image or layers: one zip serves every handler", name)
	}
	if n := fn.ReservedConcurrentExecutions; n == nil || *n < 1 {
		c.addf("%s: reserved concurrency must be set and positive", name)
	}
	mem := fn.MemorySize
	if mem == nil {
		mem = c.globals.MemorySize
	}
	if mem == nil || *mem < 128 {
		c.addf("%s: MemorySize must be set, at least 128", name)
	}
	timeout := fn.Timeout
	if timeout == nil {
		timeout = c.globals.Timeout
	}
	if timeout == nil || *timeout < 1 || *timeout > 900 {
		c.addf("%s: Timeout must be set, 1-900 s", name)
	}
	storage := fn.EphemeralStorage
	if storage == nil {
		storage = c.globals.EphemeralStorage
	}
	if storage == nil || storage.Size < 512 {
		c.addf("%s: EphemeralStorage.Size must be set, at least 512 MB (the Git cache lives in /tmp)", name)
	}
	if deref(fn.FunctionName) == "" {
		c.addf("%s: FunctionName must be set (it names the log group)", name)
	}
}

// grants compares the function's role with wantGrants, both ways.
func (c *checker) grants(name, handler string, fn *serverless.Function) {
	roleName, ok := strings.CutPrefix(deref(fn.Role), "getatt:")
	roleName, ok2 := strings.CutSuffix(roleName, ".Arn")
	if !ok || !ok2 {
		c.addf("%s: Role must be !GetAtt <a role in this template>.Arn (SAM's generated role grants logs on *)", name)
		return
	}
	role, err := c.tpl.GetIAMRoleWithName(roleName)
	if err != nil {
		c.addf("%s: role %s: %v", name, roleName, err)
		return
	}
	have := map[grant]bool{}
	for _, p := range role.Policies {
		for _, st := range statements(p.PolicyDocument) {
			for _, a := range strs(st["Action"]) {
				for _, r := range strs(st["Resource"]) {
					have[grant{a, r}] = true
				}
			}
		}
	}
	want := wantGrants(c.ampArn)[handler]
	for _, g := range want {
		if !have[g] {
			c.addf("%s: role %s lacks %s on %s", name, roleName, g.Action, g.Resource)
		}
		delete(have, g)
	}
	for _, g := range slices.SortedFunc(maps.Keys(have), func(a, b grant) int {
		return strings.Compare(a.Action+a.Resource, b.Action+b.Resource)
	}) {
		c.addf("%s: role %s grants %s on %s, which %s does not need", name, roleName, g.Action, g.Resource, handler)
	}
}

// event checks the function's one trigger against wantEvents.
func (c *checker) event(name, handler string, fn *serverless.Function) {
	if len(fn.Events) != 1 {
		c.addf("%s: %d events, want exactly 1", name, len(fn.Events))
		return
	}
	want := wantEvents[handler]
	for evName, ev := range fn.Events {
		where := name + ".Events." + evName
		if ev.Type != want.Type || ev.Properties == nil {
			c.addf("%s: type %q, want %q", where, ev.Type, want.Type)
			return
		}
		p := ev.Properties
		switch want.Type {
		case "HttpApi":
			h := p.HttpApiEvent
			if h == nil || deref(h.ApiId) != "ref:HttpApi" || deref(h.Method) != want.Method || deref(h.Path) != want.Path {
				c.addf("%s: want %s %s on the stack's HttpApi", where, want.Method, want.Path)
			}
		case "Schedule":
			s := p.ScheduleEvent
			if s == nil || !(strings.HasPrefix(s.Schedule, "rate(") || strings.HasPrefix(s.Schedule, "cron(")) ||
				(s.Enabled != nil && !*s.Enabled) {
				c.addf("%s: want an enabled rate(...) or cron(...) schedule", where)
			}
		case "SQS":
			c.sqsEvent(where, c.rawEventProperties(name, evName))
		}
	}
}

// roles applies the generic least-privilege rules to every role in the
// template: Lambda may assume it, no managed policies, Allow statements with
// explicit actions and resources, no wildcards, nothing outside the stack
// but the AMP workspace given as a parameter.
func (c *checker) roles() {
	roles := c.tpl.GetAllIAMRoleResources()
	for _, name := range slices.Sorted(maps.Keys(roles)) {
		role := roles[name]
		trust := statements(role.AssumeRolePolicyDocument)
		if len(trust) != 1 || !slices.Equal(strs(trust[0]["Action"]), []string{"sts:AssumeRole"}) ||
			fmt.Sprint(trust[0]["Principal"]) != "map[Service:lambda.amazonaws.com]" {
			c.addf("%s: only lambda.amazonaws.com may assume it", name)
		}
		if len(role.ManagedPolicyArns) > 0 {
			c.addf("%s: managed policies %v are not least privilege", name, role.ManagedPolicyArns)
		}
		for _, p := range role.Policies {
			for i, st := range statements(p.PolicyDocument) {
				c.statement(fmt.Sprintf("%s.%s[%d]", name, p.PolicyName, i), st)
			}
		}
	}
}

func (c *checker) statement(where string, st map[string]any) {
	for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
		if _, ok := st[k]; ok {
			c.addf("%s: %s is not allowed", where, k)
		}
	}
	if st["Effect"] != "Allow" {
		c.addf("%s: Effect %v, want Allow", where, st["Effect"])
	}
	actions, resources := strs(st["Action"]), strs(st["Resource"])
	if len(actions) == 0 || len(resources) == 0 {
		c.addf("%s: needs explicit actions and resources", where)
	}
	for _, a := range actions {
		if strings.Contains(a, "*") {
			c.addf("%s: wildcard action %q", where, a)
		}
	}
	for _, r := range resources {
		switch {
		case r == "*" && len(actions) > 0 && !slices.ContainsFunc(actions, func(a string) bool { return !noResourceLevel[a] }):
			// only actions IAM cannot scope to a resource
		case strings.Contains(r, "*"):
			c.addf("%s: wildcard resource %q", where, r)
		case strings.HasPrefix(r, "ref:"), strings.HasPrefix(r, "getatt:"), c.ampArn != "" && r == c.ampArn:
		default:
			c.addf("%s: resource %q is not a resource of this stack", where, r)
		}
	}
}

// noResourceLevel are the actions IAM has no resource-level permissions
// for, which may (must) be granted on "*".
var noResourceLevel = map[string]bool{"cloudwatch:GetMetricData": true}

// statements returns a policy document's statements (one or a list); a
// missing document (a policy removed by AWS::NoValue) has none.
func statements(doc any) []map[string]any {
	m, _ := doc.(map[string]any)
	switch s := m["Statement"].(type) {
	case map[string]any:
		return []map[string]any{s}
	case []any:
		var out []map[string]any
		for _, e := range s {
			if st, ok := e.(map[string]any); ok {
				out = append(out, st)
			}
		}
		return out
	}
	return nil
}

// strs reads a string-or-list IAM field; an unresolved (nil) entry reads as
// "<nil>" so the checks report it.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case nil:
		return nil
	}
	return []string{fmt.Sprint(v)}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
