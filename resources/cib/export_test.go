package cib

import "fmt"

// For the benchmarks and tests in package cib_test, which can use
// cibtest (package cib's own tests cannot: cibtest imports cib).

// ScanOwn and ScanEncodingXML build the element tree of a CIB with
// scan and with encoding/xml.
func ScanOwn(data []byte) error {
	_, err := scan(data)
	return err
}

func ScanEncodingXML(data []byte) error {
	_, err := scanEncodingXML(data)
	return err
}

// CompareScans reads data with both and returns an error if either fails
// or the trees differ.
func CompareScans(data []byte) error {
	a, err := scan(data)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	b, err := scanEncodingXML(data)
	if err != nil {
		return fmt.Errorf("encoding/xml: %w", err)
	}
	if d := sameTree(a, b, ""); d != "" {
		return fmt.Errorf("trees differ at %s", d)
	}
	return nil
}
