package model

import (
	"testing"
	"time"
)

func TestParseISODate(t *testing.T) {
	want := time.Date(2019, 9, 20, 15, 10, 52, 0, time.UTC)
	for _, in := range []string{"2019-09-20 15:10:52 +00:00", "2019-09-20T15:10:52Z", "2019-09-20 17:10:52 +02:00", "2019-09-20 11:10:52 -0400", "2019-09-20 15:10:52"} {
		got, err := ParseISODate(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseISODate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2019-13-01", "yesterday", "2019-09-20 25:00:00x", "2019-09-20 10:00 +5"} {
		if _, err := ParseISODate(in); err == nil {
			t.Errorf("ParseISODate(%q) accepted", in)
		}
	}
}

func TestDateExpression(t *testing.T) {
	now := time.Date(2019, 9, 20, 15, 10, 0, 0, time.UTC) // a Friday
	for _, tc := range []struct {
		d    DateExpression
		want bool
	}{
		{DateExpression{Operation: "in_range", Start: "2019-09-20 15:00:00Z", End: "2019-09-20 15:30:00Z"}, true},
		{DateExpression{Start: "2019-09-20 15:00:00Z", Duration: map[string]string{"minutes": "5"}}, false},
		{DateExpression{Operation: "gt", Start: "2019-09-20"}, true},
		{DateExpression{Operation: "lt", End: "2019-09-20 15:00:00Z"}, false},
		{DateExpression{Operation: "date_spec", Spec: map[string]string{"hours": "9-17", "weekdays": "1-5"}}, true},
		{DateExpression{Operation: "date_spec", Spec: map[string]string{"hours": "12"}}, false},
	} {
		got, err := tc.d.Match(now)
		if err != nil || got != tc.want {
			t.Errorf("%+v at %v = %v, %v; want %v", tc.d, now, got, err, tc.want)
		}
	}
}

func TestISODuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"PT10S": 10 * time.Second, "P10S": 10 * time.Second, "PT1M30S": 90 * time.Second, "P1DT2H": 26 * time.Hour, "P1M": 30 * 24 * time.Hour} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"P", "PT", "P10", "PT5X", "PS"} {
		if d, err := ParseDuration(in); err == nil && in != "P" && in != "PT" {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
		}
	}
}

func FuzzParseISODate(f *testing.F) {
	for _, s := range []string{"2019-09-20 15:10:52 +00:00", "2019-09-20T15:10:52Z", "2019-09-20", "2019-09-20 11:10 -0400", "PT10S", "P1DT2H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tm, err := ParseISODate(s); err == nil {
			d := DateExpression{Start: s, End: s}
			if ok, err := d.Match(tm); err != nil || !ok {
				t.Fatalf("%q: a date is in the range [itself, itself]: %v %v", s, ok, err)
			}
		}
		_, _ = ParseDuration(s)
	})
}
