package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	var keys string
	c := leaf("version", "print zkcred's version, gnark's version, the circuits and the hashes of the keys found",
		"  zkcred version\n  zkcred version --json --keys keys/",
		noArgs, func(*cobra.Command, []string) error { return runVersion(keys) })
	addKeysFlag(c, &keys)
	return c
}

type versionInfo struct {
	Version     string        `json:"version"`
	Go          string        `json:"go"`
	Gnark       string        `json:"gnark"`
	GnarkCrypto string        `json:"gnarkCrypto"`
	Keys        string        `json:"keys"`
	Circuits    []circuitInfo `json:"circuits"`
}

type circuitInfo struct {
	ID     string `json:"id"`
	VKHash string `json:"vkSha256,omitempty"` // of the key found in Keys
	Error  string `json:"error,omitempty"`    // why none was read
}

func buildVersions() versionInfo {
	v := versionInfo{Version: "unknown", Gnark: "unknown", GnarkCrypto: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Version, v.Go = bi.Main.Version, bi.GoVersion
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v.Version += " (" + s.Value[:12] + ")"
		}
	}
	for _, d := range bi.Deps {
		switch d.Path {
		case "github.com/consensys/gnark":
			v.Gnark = d.Version
		case "github.com/consensys/gnark-crypto":
			v.GnarkCrypto = d.Version
		}
	}
	return v
}

func runVersion(keys string) error {
	v := buildVersions()
	v.Keys = keys
	for _, id := range circuitIDs {
		ci := circuitInfo{ID: id}
		if vk, err := readVerifyingKey(keys, "", id); err == nil {
			ci.VKHash = vk.Hash()
		} else if _, statErr := os.Stat(vkFile(keys, id)); errors.Is(statErr, os.ErrNotExist) {
			ci.Error = "no key"
		} else {
			ci.Error = err.Error()
		}
		v.Circuits = append(v.Circuits, ci)
	}
	if jsonOutput {
		return printJSON(v)
	}
	fmt.Printf("zkcred %s (%s)\ngnark %s, gnark-crypto %s\nkeys in %s\n", v.Version, v.Go, v.Gnark, v.GnarkCrypto, v.Keys)
	for _, c := range v.Circuits {
		h := c.VKHash
		if h == "" {
			h = "(" + c.Error + ")"
		}
		fmt.Printf("  %-40s vk sha256 %s\n", c.ID, h)
	}
	return nil
}
