package templates

import "regexp"

// argRefRE finds the two argument spellings text/template cannot parse:
// Argo Rollouts' {{ args.name }} and names with dashes, {{ .Args.service-name }}.
// Both become {{ (arg "name") }}, which fails like missingkey=error when the
// argument is missing.
var argRefRE = regexp.MustCompile(`(^|[^\w.])args\.([A-Za-z_](?:[\w-]*\w)?)|\.Args\.([A-Za-z_]\w*-(?:[\w-]*\w)?)`)

// actionRE finds template actions, the only place argument references are rewritten.
var actionRE = regexp.MustCompile(`(?s)\{\{.*?\}\}`)

// NormalizeArgs rewrites the argument spellings text/template cannot
// parse, {{ args.name }} (Argo Rollouts) and {{ .Args.name-with-dashes }},
// into calls {{ (arg "name") }} of the function renderers define as
// ArgFunc; other text is left alone.
func NormalizeArgs(query string) string {
	return actionRE.ReplaceAllStringFunc(query, func(action string) string {
		return argRefRE.ReplaceAllStringFunc(action, func(m string) string {
			sub := argRefRE.FindStringSubmatch(m)
			if sub[3] != "" {
				return `(arg "` + sub[3] + `")`
			}
			return sub[1] + `(arg "` + sub[2] + `")`
		})
	})
}

// ArgFunc is the name of the function NormalizeArgs calls; a renderer
// defines it to look an argument up, failing when it is missing.
const ArgFunc = "arg"

// parseFuncs stands in for the renderer's functions when a query is only
// parsed.
var parseFuncs = map[string]any{ArgFunc: func(string) (string, error) { return "", nil }}
