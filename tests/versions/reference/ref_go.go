// Reference for Go module versions: golang.org/x/mod/semver (Debian's golang-golang-x-mod-dev).
// A missing leading "v" is added, as imagescan does for OSV data. Protocol: see ref_apt.py.
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func decode(field string) string {
	raw, err := hex.DecodeString(field[1:])
	if err != nil {
		panic(err)
	}
	v := string(raw)
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return v
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		fields := strings.Fields(in.Text())
		a, b := decode(fields[0]), decode(fields[1])
		switch {
		case !semver.IsValid(a):
			fmt.Fprintln(out, "EA")
		case !semver.IsValid(b):
			fmt.Fprintln(out, "EB")
		default:
			fmt.Fprintln(out, semver.Compare(a, b))
		}
	}
}
