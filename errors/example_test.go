package errors_test

import (
	"fmt"
	"io/fs"

	"github.com/glassbox-obs/glassbox/errors"
)

func Example() {
	err := errors.With(errors.Wrap(fs.ErrNotExist, "load config"), "path", "/etc/app.yaml")
	fmt.Println(err)
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	for _, a := range errors.Attrs(err) {
		fmt.Println(a)
	}
	// Output:
	// load config: file does not exist
	// true
	// path=/etc/app.yaml
}
