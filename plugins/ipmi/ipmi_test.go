package ipmi

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bougou/go-ipmi/pkg/bmc"
	"github.com/bougou/go-ipmi/pkg/clock"
	"github.com/bougou/go-ipmi/pkg/hal/mock"
	"github.com/bougou/go-ipmi/pkg/server"

	"palisade/fence"
)

const (
	testUser = "admin"
	testPass = "pa55-w0rd"
)

// startBMC runs go-ipmi's reference BMC in-process on a loopback UDP port
// and returns the address and the mock chassis behind it.
func startBMC(t *testing.T, setPower func(bool) error) (Config, *mock.HAL) {
	t.Helper()
	hal := mock.New()
	hal.Chassis().(*mock.Chassis).On = true
	hal.Chassis().(*mock.Chassis).SetPowerHook = setPower
	b := bmc.New(bmc.DeviceInfo{DeviceID: 1, IPMIVersion: 0x20, ManufacturerID: 0x000157, ProductID: 1},
		[16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, hal, bmc.WithClock(clock.Real))
	u, err := b.Users.Add(2, testUser)
	if err != nil {
		t.Fatal(err)
	}
	u.SetPassword([]byte(testPass))
	u.Enabled = true
	u.ChannelAccess[1] = bmc.UserChannelAccess{MaxPrivilege: bmc.PrivilegeLevelAdministrator, Enabled: true}
	if err := b.Users.Update(2, func(x *bmc.User) error { *x = *u; return nil }); err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.NewServer(b, conn)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		srv.Close()
		conn.Close()
		<-done
	})
	return Config{
		Host: "127.0.0.1", Port: conn.LocalAddr().(*net.UDPAddr).Port,
		Username: testUser, Password: testPass, Lanplus: true, Privilege: "administrator",
	}, hal
}

func req(a fence.Action) fence.Request {
	return fence.Request{Action: a, Method: fence.MethodOnOff, LoginTimeout: 2 * time.Second,
		PowerTimeout: 2 * time.Second, StatusSleep: 20 * time.Millisecond, RetryOn: 1}
}

func TestFenceAgainstInProcessBMC(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ciphers []uint8
		lanplus bool
	}{
		{"lanplus default ciphers (17 then 3)", nil, true},
		{"lanplus cipher 3", []uint8{3}, true},
		{"lanplus cipher 17", []uint8{17}, true},
		{"ipmi 1.5", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, hal := startBMC(t, nil)
			cfg.Ciphers, cfg.Lanplus = tc.ciphers, tc.lanplus
			ch := hal.Chassis().(*mock.Chassis)
			ctx := context.Background()

			res := fence.Execute(ctx, cfg.Opener(), req(fence.ActionStatus))
			if !res.OK || res.State != fence.PowerOn {
				t.Fatalf("status: %+v", res)
			}
			res = fence.Execute(ctx, cfg.Opener(), req(fence.ActionOff))
			if on, _ := ch.PowerState(ctx); !res.Fenced() || on {
				t.Fatalf("off: %+v (chassis on=%v)", res, on)
			}
			res = fence.Execute(ctx, cfg.Opener(), req(fence.ActionReboot))
			if on, _ := ch.PowerState(ctx); !res.OK || !res.OffVerified || !on {
				t.Fatalf("reboot from off: %+v (chassis on=%v)", res, on)
			}
		})
	}
}

func TestLoginDenied(t *testing.T) {
	cfg, _ := startBMC(t, nil)
	cfg.Password = "wrong-password"
	res := fence.Execute(context.Background(), cfg.Opener(), req(fence.ActionStatus))
	if res.OK || !errors.Is(res.Err, fence.ErrLoginDenied) {
		t.Fatalf("wrong password: %+v", res)
	}
	if strings.Contains(res.Err.Error(), "wrong-password") || strings.Contains(res.Err.Error(), testPass) {
		t.Fatalf("error text leaks a password: %v", res.Err)
	}
}

// TestNotAnswering: a socket that reads and never answers is a BMC that is
// down; the login must fail as unreachable, bounded by login_timeout.
func TestNotAnswering(t *testing.T) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := conn.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	cfg := Config{Host: "127.0.0.1", Port: conn.LocalAddr().(*net.UDPAddr).Port, Username: "u", Password: "p", Lanplus: true, Ciphers: []uint8{3}}
	r := req(fence.ActionOff)
	r.LoginTimeout = 300 * time.Millisecond
	res := fence.Execute(context.Background(), cfg.Opener(), r)
	if res.OK || !errors.Is(res.Err, fence.ErrUnreachable) {
		t.Fatalf("silent BMC: %+v", res)
	}
}

func TestPowerNeverPerformed(t *testing.T) {
	// The BMC accepts power commands and does nothing.
	cfg, _ := startBMC(t, func(bool) error { return nil })
	r := req(fence.ActionOff)
	r.PowerTimeout = 200 * time.Millisecond
	res := fence.Execute(context.Background(), cfg.Opener(), r)
	if res.OK || !errors.Is(res.Err, fence.ErrTimedOutOff) || res.Message() != "Failed: Timed out waiting to power OFF" {
		t.Fatalf("ignored off: %+v", res)
	}
}

func TestConfigFromOptions(t *testing.T) {
	o := fence.Options{fence.OptIP: "h", fence.OptIPPort: "6230", OptCipher: "17", OptLanplus: "1", OptPrivlvl: "operator"}
	c, err := ConfigFromOptions(o)
	if err != nil || c.Port != 6230 || len(c.Ciphers) != 1 || c.Ciphers[0] != 17 || !c.Lanplus || c.Privilege != "operator" {
		t.Fatalf("config %+v, %v", c, err)
	}
	c.Password = "topsecret"
	if strings.Contains(c.String(), "topsecret") {
		t.Fatal("Config.String shows the password")
	}
	for _, bad := range []fence.Options{
		{},
		{fence.OptIP: "h", fence.OptIPPort: "70000"},
		{fence.OptIP: "h", OptCipher: "x"},
		{fence.OptIP: "h", OptKg: "00"},
	} {
		if _, err := ConfigFromOptions(bad); !errors.Is(err, fence.ErrConfig) {
			t.Errorf("%v: err = %v, want ErrConfig", bad, err)
		}
	}
}

// TestCycleAndDiag: method=cycle reaches the BMC and succeeds without
// claiming a verified OFF; diag is refused by go-ipmi's BMC (as by ipmi_sim)
// and must then fail cleanly.
func TestCycleAndDiag(t *testing.T) {
	cfg, _ := startBMC(t, nil)
	r := req(fence.ActionReboot)
	r.Method = fence.MethodCycle
	if res := fence.Execute(context.Background(), cfg.Opener(), r); !res.OK || res.OffVerified {
		t.Fatalf("cycle: %+v (a cycle proves nothing about OFF)", res)
	}
	res := fence.Execute(context.Background(), cfg.Opener(), req(fence.ActionDiag))
	if !res.OK && (res.Err == nil || !strings.Contains(res.Err.Error(), "chassis control diag")) {
		t.Fatalf("diag failed without saying why: %+v", res)
	}
}
