package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/birdwatch-gitops/birdwatch/gitops/importer"
)

func newInitCommand() *cobra.Command {
	var dir string
	var o importer.ScaffoldOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Put a service of an existing GitOps repository under birdwatch: writes .birdwatch/NS-NAME.yaml and .sourceignore",
		Long: `init writes a Canary for a service whose traffic manifest is already in the repository
(a VirtualService, HTTPRoute, GRPCRoute, TrafficSplit or ingress-nginx canary Ingress): the
provider and its fields come from the manifest, the metrics from the mesh's embedded templates,
the steps are 10% and 50% with five minutes of analysis each. It adds "/.birdwatch/" to
.sourceignore so that Flux never applies the specs. With --name, --file and --stable it asks
nothing; without them, on a terminal, it asks for them.`,
		Example: "  birdwatch init --name aleph --namespace games --file apps/games/aleph/virtualservice.yaml --stable v03",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := askMissing(cmd, &o); err != nil {
				return err
			}
			co, err := importer.LoadCheckout(dir)
			if err != nil {
				return err
			}
			res, err := importer.Scaffold(co, o)
			if err != nil {
				return err
			}
			return writeResult(cmd, dir, res, false)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", ".", "the GitOps checkout")
	f.StringVar(&o.Name, "name", "", "the canary's name (and the service name in metric queries)")
	f.StringVar(&o.Namespace, "namespace", "default", "the canary's namespace")
	f.StringVar(&o.File, "file", "", "repository path of the traffic manifest")
	f.StringVar(&o.Route, "route", "", "the route (istio) or object name when the file holds several")
	f.StringVar(&o.Stable, "stable", "", "the version serving now (a label value)")
	f.StringVar(&o.Canary, "canary", "", "the version to roll out (default: --stable, nothing to do yet)")
	f.StringVar(&o.Ingress, "ingress", "", "nginx: the main Ingress (default: the canary Ingress's name without -canary)")
	return cmd
}

// askMissing asks for the required settings left out, on a terminal only.
func askMissing(cmd *cobra.Command, o *importer.ScaffoldOptions) error {
	fields := []struct {
		flag string
		v    *string
	}{{"name", &o.Name}, {"file", &o.File}, {"stable", &o.Stable}}
	var missing []string
	for _, f := range fields {
		if *f.v == "" {
			missing = append(missing, "--"+f.flag)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	rd := bufio.NewReader(in)
	for _, f := range fields {
		if *f.v != "" {
			continue
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s: ", f.flag)
		line, err := rd.ReadString('\n')
		if err != nil && err != io.EOF {
			return err
		}
		if *f.v = strings.TrimSpace(line); *f.v == "" {
			return fmt.Errorf("--%s is required", f.flag)
		}
	}
	return nil
}
