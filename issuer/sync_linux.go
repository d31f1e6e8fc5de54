package issuer

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFiles makes the files written under dir durable with one syncfs of
// dir's file system, then syncs dir itself for the renames.
func syncFiles(dir string, _ []string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return err
	}
	return d.Sync()
}
