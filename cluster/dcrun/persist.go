package dcrun

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"palisade/cluster/replica"
)

// PersistFile is the replica's file name in state_dir.
const PersistFile = "cib.json"

// LoadPersisted reads dir/cib.json; (nil, nil) when there is none.
func LoadPersisted(dir string) (*replica.Persisted, error) {
	path := filepath.Join(dir, PersistFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the persisted configuration: %w", err)
	}
	var p replica.Persisted
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: not a persisted configuration (%v); remove it to start from cluster.yaml", path, err)
	}
	if p.Config != nil {
		if err := p.Config.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %v; remove it to start from cluster.yaml", path, err)
		}
	}
	return &p, nil
}

// SavePersisted writes dir/cib.json atomically (temporary file, fsync,
// rename), so a crash leaves the old or the new copy, never half of one.
func SavePersisted(dir string, p replica.Persisted) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the configuration to persist: %w", err)
	}
	f, err := os.CreateTemp(dir, PersistFile+".tmp*")
	if err != nil {
		return fmt.Errorf("persisting the configuration: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, PersistFile))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("persisting the configuration to %s: %w", dir, err)
	}
	return nil
}
