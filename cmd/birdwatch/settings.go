package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

func newSettingsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "settings",
		Short: "Print every setting: flag, BIRDWATCH_* variable, default, where it is used (Markdown)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeSettingsTable(cmd.OutOrStdout())
		},
	}
}

// writeSettingsTable writes settingsTable as the README's Markdown table.
func writeSettingsTable(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| variable | flag | default | used by | meaning |\n|---|---|---|---|---|\n")
	for _, s := range settingsTable {
		flag, def := "", s.def
		if s.flag != "" {
			flag = "`--" + s.flag + "`"
		}
		switch {
		case s.env == "BIRDWATCH_CACHE_DIR":
			def = "user cache dir/birdwatch; Lambda: $TMPDIR/birdwatch"
		case s.lambdaDef != "":
			def += "; Lambda: " + s.lambdaDef
		}
		if def != "" && s.env != "BIRDWATCH_CACHE_DIR" {
			def = "`" + strings.ReplaceAll(def, "; Lambda: ", "`; Lambda: `") + "`"
		}
		meaning := s.usage
		if s.secret != "" {
			meaning += fmt.Sprintf("; or the value in `%s`, or AWS Secrets Manager id `%s_SECRET_ID`; never logged", s.secret, s.secret)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", s.env, flag, def, s.modes, strings.ReplaceAll(meaning, "|", `\|`))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
