package yamledit

import "errors"

// errNotImplemented marks the structural edits until they are written.
var errNotImplemented = errors.New("yamledit: structural edit not implemented")

// InsertItem returns a copy of doc with value inserted into the block
// sequence at path, before item index (index == length appends). value is
// encoded with yaml.v3 (pass a *yaml.Node to control key order and style)
// and written in block style at the indentation of the sequence's items.
// Every other byte is preserved; the result is parsed again and compared.
func InsertItem(doc []byte, path string, index int, value any) ([]byte, error) {
	return nil, errNotImplemented
}

// Delete returns a copy of doc without the node at path: a sequence item
// (path ends in [i] or [key=value]) or a mapping entry (path ends in a key),
// with the lines it occupied, including comments directly attached to it.
func Delete(doc []byte, path string) ([]byte, error) {
	return nil, errNotImplemented
}

// SetValue returns a copy of doc where the mapping entry at path holds
// value (encoded as InsertItem does), adding the key at the end of its
// mapping if it is absent. The parent mapping must exist.
func SetValue(doc []byte, path string, value any) ([]byte, error) {
	return nil, errNotImplemented
}
