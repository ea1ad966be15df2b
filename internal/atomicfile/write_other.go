//go:build !unix

package atomicfile

import (
	"errors"
	"fmt"
)

// Write is only implemented on Unix: its guarantees rest on openat(2),
// O_NOFOLLOW, fchown(2) and link(2).
func Write(path string, data []byte, opt Options) error {
	return fmt.Errorf("write %s: %w", path, errors.ErrUnsupported)
}
