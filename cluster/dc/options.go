package dc

import "palisade/resources/model"

// StartFailureIsFatal is the cluster option start-failure-is-fatal of a
// configuration: true unless set false, as in Pacemaker.
func StartFailureIsFatal(cfg *model.Config) bool {
	if cfg == nil || cfg.Options.StartFailureIsFatal == nil {
		return true
	}
	return *cfg.Options.StartFailureIsFatal
}
