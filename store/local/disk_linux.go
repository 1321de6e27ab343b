//go:build linux

package local

import (
	"path/filepath"
	"syscall"
)

// DiskSpace reports the room on the filesystem that holds state.db: the
// bytes an unprivileged process may still write (root's reserve left out)
// and the filesystem's size. Ingest refuses events below a watermark, so
// that a flood cannot fill the disk under the spool and ClickHouse.
func (db *DB) DiskSpace() (avail, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(db.bolt.Path()), &st); err != nil {
		return 0, 0, err
	}
	// Block counts are in fragment units (f_frsize); f_bsize is only the
	// preferred I/O size, though Linux's filesystems make them equal.
	unit := uint64(st.Frsize)
	if unit == 0 {
		unit = uint64(st.Bsize)
	}
	return st.Bavail * unit, st.Blocks * unit, nil
}
