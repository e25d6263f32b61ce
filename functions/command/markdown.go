package command

import (
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// markdown parses comments as GitHub does (CommonMark with GitHub's
// extensions), so what renders as code, a quote or a comment is told apart
// by structure, not by guessing at line prefixes.
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

// FromMarkdown finds the first command in a comment body: a line of
// paragraph text (or of a list item's text) that starts with Prefix. Text
// inside code spans, fenced or indented code blocks, HTML blocks and inline
// HTML (comments included) and block quotes is never a command: people
// quote and paste commands in those to talk about them. found is false when
// there is no command line; err (wrapping ErrUsage) says what is wrong
// with one that is there.
func FromMarkdown(body string) (cmd Command, found bool, err error) {
	src := []byte(strings.ReplaceAll(body, "\r\n", "\n"))
	doc := markdown.Parser().Parse(text.NewReader(src))
	var line string
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering || found {
			return ast.WalkSkipChildren, nil
		}
		switch n.Kind() {
		case ast.KindBlockquote, ast.KindCodeBlock, ast.KindFencedCodeBlock, ast.KindHTMLBlock:
			return ast.WalkSkipChildren, nil
		case ast.KindParagraph, ast.KindTextBlock:
			for _, l := range strings.Split(plainText(n, src), "\n") {
				if rest, ok := commandLine(l); ok {
					line, found = rest, true
					break
				}
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	if !found {
		return Command{}, false, nil
	}
	cmd, err = Parse(line)
	return cmd, true, err
}

// commandLine returns the words after Prefix when l starts with it.
func commandLine(l string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(l), Prefix)
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return "", false
	}
	return rest, true
}

// plainText is the text of an inline container with line breaks kept and
// code spans and raw HTML left out (each becomes a space, so the words
// around them do not join).
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch t := c.(type) {
			case *ast.CodeSpan, *ast.RawHTML:
				b.WriteString(" \x00 ")
			case *ast.Text:
				b.Write(t.Segment.Value(src))
				if t.SoftLineBreak() || t.HardLineBreak() {
					b.WriteByte('\n')
				}
			case *ast.String:
				b.Write(t.Value)
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}
