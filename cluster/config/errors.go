package config

import "palisade/cluster/config/strict"

// Error is one problem in a configuration file: the one error type of
// every section (cluster/config/strict), FILE:LINE: key.path: problem.
type Error = strict.Error

// Errors is every problem found in one file; Parse and Load report them
// all at once so an operator fixes a file in one pass.
type Errors = strict.Errors
