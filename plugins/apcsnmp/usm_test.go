package apcsnmp

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// TestUSMKeysEqualGosnmp: the keys computed in one pass equal the ones
// gosnmp derives itself, for every protocol pair the plugin offers and
// passphrases of several lengths (the 1 MiB fill must keep its phase).
func TestUSMKeysEqualGosnmp(t *testing.T) {
	engine := string([]byte{0x80, 0x00, 0x1f, 0x88, 0x80, 0x5d, 0x4a, 0x1e, 0x34, 0x7a, 0x9c, 0x5f, 0x62, 0x00, 0x00, 0x00, 0x00})
	for _, auth := range []gosnmp.SnmpV3AuthProtocol{gosnmp.MD5, gosnmp.SHA} {
		for _, priv := range []gosnmp.SnmpV3PrivProtocol{gosnmp.DES, gosnmp.AES} {
			for _, pass := range []string{"maplesyrup", "12345678", "a-passphrase-of-an-odd-length-37chars", "x" + string(make([]byte, 63))} {
				t.Run(fmt.Sprintf("%s %s %d", auth, priv, len(pass)), func(t *testing.T) {
					sp := &gosnmp.UsmSecurityParameters{AuthenticationProtocol: auth, PrivacyProtocol: priv,
						AuthenticationPassphrase: pass, PrivacyPassphrase: pass + "-priv", AuthoritativeEngineID: engine}
					if err := sp.InitSecurityKeys(); err != nil {
						t.Fatal(err)
					}
					a, p := usmKeys(Config{Level: gosnmp.AuthPriv, AuthProto: auth, PrivProto: priv, AuthPass: pass, PrivPass: pass + "-priv"}, engine)
					if !bytes.Equal(a, sp.SecretKey) {
						t.Errorf("auth key %x, gosnmp %x", a, sp.SecretKey)
					}
					if !bytes.Equal(p, sp.PrivacyKey) {
						t.Errorf("privacy key %x, gosnmp %x", p, sp.PrivacyKey)
					}
				})
			}
		}
	}
	// RFC 3414 A.3.1: "maplesyrup" with MD5 for engine 00..02.
	eng := string([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2})
	want := []byte{0x52, 0x6f, 0x5e, 0xed, 0x9f, 0xcc, 0xe2, 0x6f, 0x89, 0x64, 0xc2, 0x93, 0x07, 0x87, 0xd8, 0x2b}
	if got := localizedKey(hashOf(gosnmp.MD5), "maplesyrup", eng); !bytes.Equal(got, want) {
		t.Errorf("RFC 3414 A.3.1: %x, want %x", got, want)
	}
}
