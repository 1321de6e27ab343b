//go:build !linux

package local

import "errors"

// DiskSpace is not measured off Linux (tiendo's servers are Debian): the
// free-disk watermark is then not applied.
func (db *DB) DiskSpace() (avail, total uint64, err error) {
	return 0, 0, errors.ErrUnsupported
}
