package textsafe_test

import (
	"fmt"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

func ExampleSanitize() {
	// A header value that tries to forge a second log line.
	fmt.Printf("%+q\n", textsafe.Sanitize("bot\r\nlevel=error msg=forged", 1024))
	// A long value is cut at a character boundary.
	fmt.Println(textsafe.Sanitize("/a/very/long/path", 10))
	// Output:
	// "bot\ufffd\ufffdlevel=error msg=forged"
	// /a/very...
}

func ExampleUnsafeRune() {
	for _, r := range []rune{'a', '\n', '\u202e', 'é'} {
		fmt.Printf("%U %v\n", r, textsafe.UnsafeRune(r))
	}
	// Output:
	// U+0061 false
	// U+000A true
	// U+202E true
	// U+00E9 false
}
