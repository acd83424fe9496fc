package dc

import "palisade/resources/model"

// startFailureIsFatal is the cluster option start-failure-is-fatal of a
// configuration: true unless set false, as in Pacemaker.
func startFailureIsFatal(cfg *model.Config) bool {
	if cfg == nil || cfg.Options.StartFailureIsFatal == nil {
		return true
	}
	return *cfg.Options.StartFailureIsFatal
}
