package appliance

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"tinkerbox/appliance/config"
	"tinkerbox/appliance/update"
)

// The card and the firmware's view of it on a Raspberry Pi.
const (
	cardDisk      = "/dev/mmcblk0"
	bootDir       = "/boot"
	bootDev       = "/dev/mmcblk0p1"
	bootloaderDir = "/proc/device-tree/chosen/bootloader"
)

// UpdateService is `tinkerbox update-service`, started as root by init:
// it settles the last update (commits a healthy trial boot, or reboots
// into the committed slot) and serves the update socket to the appliance
// (group tinkerbox) and the CLI.
func UpdateService(ctx context.Context, o Options) error {
	log := newLogger(o.Stderr).With("service", "update")
	if os.Geteuid() != 0 {
		return errors.New("update-service: must run as root (init starts it on the device)")
	}
	board, err := os.ReadFile(boardFile)
	if err != nil {
		return fmt.Errorf("update-service: %w (not a tinkerbox device image?)", err)
	}
	var keys []ed25519.PublicKey
	if b, err := os.ReadFile(updateKeyFile); err != nil {
		log.Error("no update key: every bundle will be refused", "file", updateKeyFile, "err", err)
	} else if k, err := update.ParsePublicKey(b); err != nil {
		log.Error("bad update key: every bundle will be refused", "file", updateKeyFile, "err", err)
	} else {
		keys = append(keys, k)
	}
	// A config the maker broke must not stop the updater: the appliance
	// then does not start either, and the trial must fail, not hang.
	dataDir := deviceDataDir
	if cfg, err := loadConfig(&o, log); err != nil {
		log.Error("config", "err", err)
	} else {
		dataDir = cfg.Appliance.DataDir
	}
	svc := update.New(update.Options{
		Board:    strings.TrimSpace(string(board)),
		Version:  o.Version,
		Keys:     keys,
		Card:     update.DevCard{Disk: cardDisk},
		BootFS:   &update.MountedFAT{Dir: bootDir, Dev: bootDev},
		Loader:   update.DeviceTree{Dir: bootloaderDir},
		Rebooter: update.InitReboot{Marker: trybootMarker},
		Health:   applianceHealth{dataDir: dataDir},
		Log:      log,
		// The settings page's saves: the file must read as the appliance
		// will read it at its next start.
		CheckConfig: func(b []byte) error {
			_, err := config.Parse(filepath.Join(bootDir, update.ConfigFile), b)
			return err
		},
	})
	ln, err := listenUpdateSocket(update.Socket)
	if err != nil {
		return err
	}
	defer os.Remove(update.Socket)
	hs := &http.Server{Handler: logInstallMemory(svc.Handler(), log), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	settled := make(chan error, 1)
	go func() { settled <- svc.Settle(ctx) }()
	go func() {
		if err := <-settled; err != nil && ctx.Err() == nil {
			log.Error("settling the last update", "err", err)
		}
		// The trial watchdog (S06trial) stands down once it is decided.
		os.WriteFile(filepath.Join(filepath.Dir(trybootMarker), "trial-settled"), nil, 0o644)
	}()
	log.Info("update service ready", "socket", update.Socket, "version", o.Version)
	if err := hs.Serve(ln); err != nil && ctx.Err() == nil {
		return fmt.Errorf("update-service: %w", err)
	}
	return nil
}

// listenUpdateSocket binds the socket root:tinkerbox 0660.
func listenUpdateSocket(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("update-service: %w", err)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("update-service: %w", err)
	}
	gid := -1
	if g, err := user.LookupGroup("tinkerbox"); err == nil {
		gid, _ = strconv.Atoi(g.Gid)
	}
	if err := os.Chown(path, 0, gid); err == nil {
		err = os.Chmod(path, 0o660)
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("update-service: %w", err)
	}
	return ln, nil
}

// RebootHook is `tinkerbox reboot-hook`, the last shutdown entry of
// inittab: it finishes a tryboot reboot (see update.RebootHook).
func RebootHook() error { return update.RebootHook(trybootMarker) }

// logInstallMemory logs the service's resident memory around each install:
// the bundle is streamed, so the peak must stay near where it started.
func logInstallMemory(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/install" {
			h.ServeHTTP(w, r)
			return
		}
		before := procStatus("VmHWM")
		start := time.Now()
		h.ServeHTTP(w, r)
		log.Info("install finished", "seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()),
			"peak_rss_before_kb", before, "peak_rss_after_kb", procStatus("VmHWM"))
	})
}

// procStatus reads a kB field of /proc/self/status; -1 when unknown.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}
