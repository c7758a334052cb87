package update

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"
)

// Bundle member names and bounds.
const (
	manifestName = "manifest.json"
	sigName      = "manifest.sig"
	maxManifest  = 1 << 20
	// maxPart bounds a part's declared size: the largest partition any
	// board has is far smaller.
	maxPart = 4 << 30
)

// Part names, in the order a bundle carries them.
var partNames = []string{"boot", "root"}

var (
	boardRE   = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	versionRE = regexp.MustCompile(`^[A-Za-z0-9._+~-]{1,64}$`)
)

// PartFile is a raw partition image to bundle.
type PartFile struct {
	Name string // "boot" or "root"
	Path string
}

// WriteBundle writes a signed bundle of parts (boot, then root) to w. It
// reads each image twice: once to hash and compress it into a temporary
// file (tar needs the member's size first), once more to copy it.
func WriteBundle(w io.Writer, key ed25519.PrivateKey, board, version string, created time.Time, parts []PartFile) (Manifest, error) {
	m := Manifest{Format: FormatVersion, Board: board, Version: version, Created: created.UTC().Truncate(time.Second)}
	if !boardRE.MatchString(board) {
		return m, fmt.Errorf("update: bad board name %q", board)
	}
	if !versionRE.MatchString(version) {
		return m, fmt.Errorf("update: bad version %q (letters, digits and ._+~- only)", version)
	}
	if len(parts) != len(partNames) {
		return m, fmt.Errorf("update: a bundle has %d parts (boot, root), got %d", len(partNames), len(parts))
	}
	var tmps []*os.File
	defer func() {
		for _, f := range tmps {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	for i, p := range parts {
		if p.Name != partNames[i] {
			return m, fmt.Errorf("update: part %d is %q, want %q", i, p.Name, partNames[i])
		}
		tmp, err := os.CreateTemp("", "tbup-"+p.Name+"-*.gz")
		if err != nil {
			return m, fmt.Errorf("update: %w", err)
		}
		tmps = append(tmps, tmp)
		part, err := compressPart(tmp, p)
		if err != nil {
			return m, err
		}
		m.Parts = append(m.Parts, part)
	}
	mb, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return m, fmt.Errorf("update: %w", err)
	}
	mb = append(mb, '\n')
	tw := tar.NewWriter(w)
	add := func(name string, size int64, r io.Reader) error {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: m.Created, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	sig := ed25519.Sign(key, mb)
	if err := add(manifestName, int64(len(mb)), bytes.NewReader(mb)); err != nil {
		return m, fmt.Errorf("update: write bundle: %w", err)
	}
	if err := add(sigName, int64(len(sig)), bytes.NewReader(sig)); err != nil {
		return m, fmt.Errorf("update: write bundle: %w", err)
	}
	for i, f := range tmps {
		st, err := f.Stat()
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err == nil {
			err = add(m.Parts[i].File, st.Size(), f)
		}
		if err != nil {
			return m, fmt.Errorf("update: write bundle: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("update: write bundle: %w", err)
	}
	return m, nil
}

// compressPart hashes p block by block and gzips it into dst.
func compressPart(dst io.Writer, p PartFile) (Part, error) {
	part := Part{Name: p.Name, File: p.Name + ".img.gz"}
	f, err := os.Open(p.Path)
	if err != nil {
		return part, fmt.Errorf("update: %w", err)
	}
	defer f.Close()
	zw, err := gzip.NewWriterLevel(dst, gzip.BestCompression)
	if err != nil {
		return part, err
	}
	whole := sha256.New()
	buf := make([]byte, BlockSize)
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			sum := sha256.Sum256(buf[:n])
			part.Blocks = append(part.Blocks, hex.EncodeToString(sum[:]))
			whole.Write(buf[:n])
			part.Size += int64(n)
			if _, werr := zw.Write(buf[:n]); werr != nil {
				return part, fmt.Errorf("update: compress %s: %w", p.Path, werr)
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return part, fmt.Errorf("update: read %s: %w", p.Path, err)
		}
	}
	if part.Size == 0 {
		return part, fmt.Errorf("update: %s is empty", p.Path)
	}
	part.SHA256 = hex.EncodeToString(whole.Sum(nil))
	return part, zw.Close()
}

// Reader reads a bundle whose manifest has been verified: the parts it
// hands out yield only bytes the signed manifest vouches for.
type Reader struct {
	m    Manifest
	tr   *tar.Reader
	next int
}

// Open reads the manifest and its signature from the start of a bundle and
// checks them against keys and the device's board. Nothing of the parts is
// read yet.
func Open(r io.Reader, keys []ed25519.PublicKey, board string) (*Reader, error) {
	tr := tar.NewReader(r)
	mb, err := member(tr, manifestName, maxManifest)
	if err != nil {
		return nil, err
	}
	sig, err := member(tr, sigName, ed25519.SignatureSize)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("update: this firmware has no update key, so it cannot check any bundle (it was built without one)")
	}
	ok := false
	for _, k := range keys {
		if len(sig) == ed25519.SignatureSize && ed25519.Verify(k, mb, sig) {
			ok = true
			break
		}
	}
	if !ok {
		return nil, errors.New("update: the bundle's signature does not match this device's update key: it was signed by another builder, or altered after signing")
	}
	var m Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("update: the signed manifest does not parse: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	if m.Board != board {
		return nil, fmt.Errorf("update: this bundle is for the %s board and this device is a %s: build the bundle with make image BOARD=%s", m.Board, board, board)
	}
	return &Reader{m: m, tr: tr}, nil
}

// member reads the next tar member, which must be called name and hold at
// most limit bytes.
func member(tr *tar.Reader, name string, limit int64) ([]byte, error) {
	hdr, err := tr.Next()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("update: the bundle ends before its %s (truncated, or not a .tbup bundle)", name)
		}
		return nil, fmt.Errorf("update: not a tinkerbox update bundle (.tbup): %w", err)
	}
	if hdr.Name != name {
		return nil, fmt.Errorf("update: not a tinkerbox update bundle (.tbup): it starts with %q, not %s", hdr.Name, name)
	}
	if hdr.Size > limit || hdr.Size < 0 {
		return nil, fmt.Errorf("update: the bundle's %s is %d bytes, more than %d", name, hdr.Size, limit)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("update: the bundle's %s is cut short: %w", name, err)
	}
	return b, nil
}

func (m *Manifest) check() error {
	if m.Format != FormatVersion {
		return fmt.Errorf("update: bundle format %d is not the one this firmware reads (%d)", m.Format, FormatVersion)
	}
	if !boardRE.MatchString(m.Board) || !versionRE.MatchString(m.Version) {
		return fmt.Errorf("update: the manifest's board %q or version %q is malformed", m.Board, m.Version)
	}
	if len(m.Parts) != len(partNames) {
		return fmt.Errorf("update: the manifest lists %d parts, want %d (boot, root)", len(m.Parts), len(partNames))
	}
	for i, p := range m.Parts {
		if p.Name != partNames[i] || p.File != p.Name+".img.gz" {
			return fmt.Errorf("update: manifest part %d is %q (%s), want %s", i, p.Name, p.File, partNames[i])
		}
		if p.Size <= 0 || p.Size > maxPart {
			return fmt.Errorf("update: part %s has a bad size %d", p.Name, p.Size)
		}
		if want := (p.Size + BlockSize - 1) / BlockSize; int64(len(p.Blocks)) != want {
			return fmt.Errorf("update: part %s lists %d block hashes for %d bytes (want %d)", p.Name, len(p.Blocks), p.Size, want)
		}
		for _, h := range append([]string{p.SHA256}, p.Blocks...) {
			if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
				return fmt.Errorf("update: part %s has a malformed hash %q", p.Name, h)
			}
		}
	}
	return nil
}

// Manifest returns the verified manifest.
func (b *Reader) Manifest() Manifest { return b.m }

// Next returns the next part and a reader of its decompressed bytes. The
// reader hands out a block only once its hash matches the manifest, and
// fails at the end unless the part is complete and whole.
func (b *Reader) Next() (Part, io.Reader, error) {
	if b.next >= len(b.m.Parts) {
		return Part{}, nil, io.EOF
	}
	p := b.m.Parts[b.next]
	b.next++
	hdr, err := b.tr.Next()
	if err != nil {
		return p, nil, fmt.Errorf("update: the bundle is truncated: it ends before its %s part", p.Name)
	}
	if hdr.Name != p.File {
		return p, nil, fmt.Errorf("update: the bundle holds %q where the manifest says %s", hdr.Name, p.File)
	}
	zr, err := gzip.NewReader(b.tr)
	if err != nil {
		return p, nil, fmt.Errorf("update: part %s: %w", p.Name, truncated(err))
	}
	zr.Multistream(false)
	return p, &partReader{p: p, zr: zr, buf: make([]byte, 0, BlockSize), whole: sha256.New()}, nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the bundle is truncated")
	}
	return err
}

// partReader yields verified blocks.
type partReader struct {
	p     Part
	zr    *gzip.Reader
	buf   []byte // the current verified block
	off   int    // read position in buf
	block int    // index of the next block to read
	done  int64
	whole interface {
		io.Writer
		Sum([]byte) []byte
	}
	err error
}

func (r *partReader) Read(p []byte) (int, error) {
	if r.off == len(r.buf) {
		if r.err != nil {
			return 0, r.err
		}
		if r.err = r.fill(); r.err != nil && r.off == len(r.buf) {
			return 0, r.err
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// fill reads and verifies the next block; io.EOF after the last one.
func (r *partReader) fill() error {
	mib := func(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
	if r.block == len(r.p.Blocks) {
		// The compressed stream must end here too.
		var one [1]byte
		if n, _ := io.ReadFull(r.zr, one[:]); n > 0 {
			return fmt.Errorf("update: part %s holds more than the %d bytes its manifest says (altered)", r.p.Name, r.p.Size)
		}
		if hex.EncodeToString(r.whole.Sum(nil)) != r.p.SHA256 {
			return fmt.Errorf("update: part %s does not match its SHA-256 (altered)", r.p.Name)
		}
		return io.EOF
	}
	size := int64(BlockSize)
	if rest := r.p.Size - r.done; rest < size {
		size = rest
	}
	r.buf = r.buf[:size]
	r.off = 0
	n, err := io.ReadFull(r.zr, r.buf)
	if err != nil {
		r.buf = r.buf[:0]
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if r.done+int64(n) >= r.p.Size {
				return fmt.Errorf("update: the bundle is truncated: the end of part %s is missing", r.p.Name)
			}
			return fmt.Errorf("update: the bundle is truncated: part %s ends after %s of %s", r.p.Name, mib(r.done+int64(n)), mib(r.p.Size))
		}
		return fmt.Errorf("update: part %s: %w (altered or damaged bundle)", r.p.Name, err)
	}
	sum := sha256.Sum256(r.buf)
	if hex.EncodeToString(sum[:]) != r.p.Blocks[r.block] {
		r.buf = r.buf[:0]
		return fmt.Errorf("update: part %s: block %d (at %s) does not match the signed manifest (altered or damaged bundle); nothing of it was written", r.p.Name, r.block, mib(r.done))
	}
	r.whole.Write(r.buf)
	r.block++
	r.done += size
	return nil
}

// ParsePublicKey reads an update public key file: one line, the key in hex.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	k, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, errors.New("update: a public key file holds one line of 64 hex digits")
	}
	return ed25519.PublicKey(k), nil
}

// ParsePrivateKey reads a signing key file: one line, the 32-byte seed in hex.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	s, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(s) != ed25519.SeedSize {
		return nil, errors.New("update: a signing key file holds one line of 64 hex digits (the ed25519 seed)")
	}
	return ed25519.NewKeyFromSeed(s), nil
}

// FormatPublicKey and FormatPrivateKey are the file forms the parsers read.
func FormatPublicKey(k ed25519.PublicKey) []byte { return []byte(hex.EncodeToString(k) + "\n") }

// FormatPrivateKey writes the seed of k.
func FormatPrivateKey(k ed25519.PrivateKey) []byte {
	return []byte(hex.EncodeToString(k.Seed()) + "\n")
}
