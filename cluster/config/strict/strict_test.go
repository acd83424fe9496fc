package strict

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestErrorFormat(t *testing.T) {
	for _, c := range []struct {
		e    Error
		want string
	}{
		{Error{File: "c.yaml", Line: 3, Key: "links[0].kind", Reason: `"tcp": want ucast, mcast or bcast`}, `c.yaml:3: links[0].kind: "tcp": want ucast, mcast or bcast`},
		{Error{File: "c.yaml", Key: "resources", Reason: "bad"}, "c.yaml: resources: bad"},
		{Error{File: "c.yaml", Reason: "empty file"}, "c.yaml: empty file"},
		{Error{Line: 2, Key: "a", Reason: "bad"}, "line 2: a: bad"},
		{Error{Key: "a", Reason: "bad"}, "a: bad"},
		{Error{Reason: "bad"}, "bad"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	// A key path or reason built elsewhere from a huge value is cut.
	long := Error{File: "c.yaml", Line: 1, Key: strings.Repeat("k", 1<<20), Reason: "x " + strings.Repeat("r", 1<<20)}
	if got := long.Error(); len(got) > maxKey+maxReason+40 || !strings.Contains(got, "(1048576 bytes, cut)") {
		t.Errorf("%d bytes: %.200s", len(got), got)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"tcp":                     `"tcp"`,
		"":                        `""`,
		"a\nb":                    `"a\nb"`,
		strings.Repeat("x", 40):   `"` + strings.Repeat("x", 40) + `"`,
		strings.Repeat("x", 41):   `"` + strings.Repeat("x", 32) + `"… (41 bytes)`,
		strings.Repeat("é", 30):   `"` + strings.Repeat("é", 16) + `"… (60 bytes)`, // cut at a rune boundary
		strings.Repeat("x", 50e6): `"` + strings.Repeat("x", 32) + `"… (50000000 bytes)`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%.50q) = %s, want %s", in, got, want)
		}
	}
}

func parse(t testing.TB, s string) (*Collector, *yaml.Node) {
	c := New("c.yaml")
	return c, c.Parse([]byte(s))
}

func TestCollectorOrder(t *testing.T) {
	c := New("c.yaml")
	c.ErrorAt(0, "timing", "no line")
	c.ErrorAt(5, "b", "later")
	c.ErrorAt(2, "a", "first")
	c.ErrorAt(5, "b", "later") // the same problem found twice
	c.Add(Errors{{Line: 3, Key: "q", Reason: "from a section"}})
	c.Add(errors.New("plain"))
	c.AddAt(&yaml.Node{Line: 4}, "quorum", errors.New("two_node needs two nodes"))
	want := "c.yaml:2: a: first\nc.yaml:3: q: from a section\nc.yaml:4: quorum: two_node needs two nodes\nc.yaml:5: b: later\nc.yaml: timing: no line\nc.yaml: plain"
	if err := c.Err(); err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	if New("x").Err() != nil {
		t.Fatal("no problem, yet an error")
	}
	many := New("c.yaml")
	for i := range MaxErrors + 7 {
		many.ErrorAt(i+1, "k", "bad")
	}
	var es Errors
	if !errors.As(many.Err(), &es) || len(es) != MaxErrors+1 || es[MaxErrors].Error() != "c.yaml: 7 more problems not shown" {
		t.Fatalf("%d errors, last %v", len(es), es[len(es)-1])
	}
}

func TestFields(t *testing.T) {
	c, root := parse(t, `base: &b {port: 1, name: base}
link: {<<: *b, name: ring0, kind: ucast, knid: x, kind: bcast}
list: [1, 2]
`)
	var got []string
	c.Fields(root, "", map[string]func(*yaml.Node, string){
		"base": func(*yaml.Node, string) {},
		"list": func(v *yaml.Node, key string) {
			c.List(v, key, func(i int, v *yaml.Node, key string) { got = append(got, key+"="+v.Value) })
		},
		"link": func(v *yaml.Node, key string) {
			h := map[string]func(*yaml.Node, string){}
			for _, k := range []string{"name", "kind", "port"} {
				h[k] = func(v *yaml.Node, key string) {
					s, _ := c.Scalar(v, key)
					got = append(got, key+"="+s)
				}
			}
			c.Fields(v, key, h)
		},
	})
	// The mapping's own keys win over merged ones, as in YAML.
	if w := "link.name=ring0 link.kind=ucast link.port=1 list[0]=1 list[1]=2"; strings.Join(got, " ") != w {
		t.Errorf("walk: %s\nwant %s", strings.Join(got, " "), w)
	}
	want := "c.yaml:2: link.knid: unknown key, valid keys here: kind, name, port\n" +
		"c.yaml:2: link.kind: duplicate key (first on line 2)"
	if err := c.Err(); err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}

	c, root = parse(t, "a: [1]\nb: {x: 1}\nc: ~\nd: *\n")
	if root != nil || c.Err() == nil || !strings.HasPrefix(c.Err().Error(), "c.yaml:4: YAML syntax:") {
		t.Fatalf("syntax error: %v", c.Err())
	}
	c, root = parse(t, "a: [1]\nb: {x: 1}\nc: ~\n")
	c.Fields(root, "", map[string]func(*yaml.Node, string){
		"a": func(v *yaml.Node, key string) { c.Fields(v, key, nil) },
		"b": func(v *yaml.Node, key string) { c.Scalar(v, key) },
		"c": func(v *yaml.Node, key string) { c.List(v, key, nil) },
	})
	want = "c.yaml:1: a: is a list, want a mapping\nc.yaml:2: b: is a mapping, want a value\nc.yaml:3: c: is empty, want a list"
	if err := c.Err(); err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

// TestAliasBomb: nested aliases (a "billion laughs") are followed within
// a budget: the walk ends at once with an error, not an expansion.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	c, root := parse(t, b.String())
	start := time.Now()
	var walk func(v *yaml.Node, key string)
	walk = func(v *yaml.Node, key string) {
		if v = c.Deref(v); v.Kind == yaml.SequenceNode {
			c.List(v, key, func(_ int, v *yaml.Node, key string) { walk(v, key) })
		}
	}
	c.Map(root, "", func(_ string, v *yaml.Node, key string) { walk(v, key) })
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "aliases followed: the file expands too much") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the walk took %v", d)
	}
}

func TestDecodeStrict(t *testing.T) {
	type inner struct {
		Port int    `yaml:"port"`
		Name string `yaml:"name"`
	}
	type doc struct {
		Links []inner         `yaml:"links"`
		Opts  map[string]bool `yaml:"opts"`
	}
	c, root := parse(t, "links: [{port: x, name: a}, {prot: 1}]\nopts: {a: maybe}\nepoch: 1\n")
	var d doc
	if c.DecodeStrict(root, "top", &d, "epoch") {
		t.Fatal("decoded a bad document")
	}
	want := "c.yaml:1: top.links[0].port: \"x\": want a whole number\n" +
		"c.yaml:1: top.links[1].prot: unknown key, valid keys here: name, port\n" +
		"c.yaml:2: top.opts.a: \"maybe\": want true or false"
	if err := c.Err(); err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	c, root = parse(t, "links: [{port: 1, name: a}]\nepoch: 1\n")
	if !c.DecodeStrict(root, "", &d, "epoch") || len(d.Links) != 1 || d.Links[0].Port != 1 || c.Err() != nil {
		t.Fatalf("good document: %+v %v", d, c.Err())
	}
}

// FuzzWalk walks any YAML with every walk of the Collector: it never
// panics, gives the same errors twice, and every error line is short.
func FuzzWalk(f *testing.F) {
	for _, s := range []string{
		"a: {b: 1, c: [1, 2]}\n",
		"base: &b {port: 1}\nlink: {<<: *b, name: x, name: y}\n",
		"a0: &a0 [x]\na1: &a1 [*a0, *a0]\na2: [*a1, *a1]\n",
		"- a\n- {b: c}\n",
		"a: " + strings.Repeat("x", 200) + "\n",
		"? [a]\n: b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		run := func() string {
			c := New("f.yaml")
			var walk func(v *yaml.Node, key string, depth int)
			walk = func(v *yaml.Node, key string, depth int) {
				if depth > 20 {
					return
				}
				switch c.Deref(v).Kind {
				case yaml.MappingNode:
					c.Fields(v, key, map[string]func(*yaml.Node, string){
						"a": func(v *yaml.Node, key string) { walk(v, key, depth+1) },
						"b": func(v *yaml.Node, key string) { c.Scalar(v, key) },
					})
					c.Map(v, key, func(_ string, v *yaml.Node, key string) { walk(v, key, depth+1) })
				case yaml.SequenceNode:
					c.List(v, key, func(_ int, v *yaml.Node, key string) { walk(v, key, depth+1) })
				default:
					c.Scalar(v, key)
				}
			}
			if root := c.Parse(data); root != nil {
				walk(root, "", 0)
				var out any
				c.DecodeStrict(root, "", &out)
			}
			return fmt.Sprint(c.Err())
		}
		a := run()
		if b := run(); a != b {
			t.Fatalf("two walks, two results:\n%s\n%s", a, b)
		}
		for _, line := range strings.Split(a, "\n") {
			if len(line) > 1000 {
				t.Fatalf("%d-byte error line: %.200s", len(line), line)
			}
		}
	})
}
