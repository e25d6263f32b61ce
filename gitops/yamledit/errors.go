package yamledit

import "errors"

// Sentinel errors returned (wrapped) by this package. Test for them with
// errors.Is; the wrapping message names the path and the document.
var (
	// ErrInvalidPath means a path string does not follow the path syntax
	// described on ParsePath.
	ErrInvalidPath = errors.New("invalid path")

	// ErrSyntax means the input is not YAML this package can read: a YAML
	// syntax error, or an encoding other than UTF-8.
	ErrSyntax = errors.New("YAML syntax error")

	// ErrPathNotFound means the path does not resolve in any selected
	// document: a key is missing, an index is out of range, no list item
	// matches a selector, or a node on the way has another kind.
	ErrPathNotFound = errors.New("path not found")

	// ErrAmbiguous means a list selector matched more than one item, or a
	// mapping holds the same key twice, so the path names no single node.
	ErrAmbiguous = errors.New("path is ambiguous")

	// ErrNotScalar means the path resolves to a mapping or a sequence where a
	// scalar value is needed.
	ErrNotScalar = errors.New("not a scalar")

	// ErrUnsupported means the target cannot be edited without touching
	// bytes outside the value: it is a block scalar (| or >), a plain scalar
	// spanning several lines, it is reached through an alias or merge key,
	// or it carries an anchor that an alias refers to.
	ErrUnsupported = errors.New("unsupported edit")

	// ErrUnsupportedStyle means a structural edit (InsertItem, Delete,
	// SetValue) would have to rewrite YAML written in a style this package
	// does not edit structurally: a non-empty flow collection ([a, b] or
	// {a: 1}) as the edited parent, a sequence or mapping that starts on its
	// parent's line ("- - a"), or an anchor, alias or merge key on a touched
	// node. Errors that wrap it also wrap ErrUnsupported.
	ErrUnsupportedStyle = errors.New("unsupported YAML style")

	// ErrInvalidValue means the new value cannot be written, e.g. it is not
	// valid UTF-8.
	ErrInvalidValue = errors.New("invalid value")

	// ErrConflict means two edits in one Apply call target the same node with
	// different values.
	ErrConflict = errors.New("conflicting edits")
)
