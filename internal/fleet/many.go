package fleet

import (
	"fmt"
	"strings"
)

// ManyFiles returns the files of a repository with n copies of the aleph
// example, as a platform team would grow one: canary i is spec with every
// "aleph" renamed "aleph-<i>" (its name, manifests and promote paths), in
// .birdwatch/aleph-<i>.yaml, with its own copy of the example's manifests.
func ManyFiles(spec string, n int) (map[string]string, error) {
	example, err := ExampleFiles("aleph")
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("aleph-%04d", i)
		for p, content := range example {
			files[strings.ReplaceAll(p, "aleph", name)] = strings.ReplaceAll(content, "aleph", name)
		}
		files[".birdwatch/"+name+".yaml"] = strings.ReplaceAll(spec, "aleph", name)
	}
	return files, nil
}
