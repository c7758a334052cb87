package v4l2

import (
	"testing"
	"unsafe"
)

// TestIoctlNumbers checks the computed request numbers against the values of
// linux/videodev2.h (checked with a C compiler on amd64; 32-bit from the
// struct sizes of the ARM EABI).
func TestIoctlNumbers(t *testing.T) {
	is64 := unsafe.Sizeof(uintptr(0)) == 8
	pick := func(v64, v32 uintptr) uintptr {
		if is64 {
			return v64
		}
		return v32
	}
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"VIDIOC_QUERYCAP", vidiocQueryCap, 0x80685600},
		{"VIDIOC_ENUM_FMT", vidiocEnumFmt, 0xc0405602},
		{"VIDIOC_S_FMT", vidiocSFmt, pick(0xc0d05605, 0xc0cc5605)},
		{"VIDIOC_REQBUFS", vidiocReqBufs, 0xc0145608},
		{"VIDIOC_QUERYBUF", vidiocQueryBuf, pick(0xc0585609, 0xc0445609)},
		{"VIDIOC_QBUF", vidiocQBuf, pick(0xc058560f, 0xc044560f)},
		{"VIDIOC_DQBUF", vidiocDQBuf, pick(0xc0585611, 0xc0445611)},
		{"VIDIOC_STREAMON", vidiocStreamOn, 0x40045612},
		{"VIDIOC_STREAMOFF", vidiocStreamOff, 0x40045613},
		{"VIDIOC_S_PARM", vidiocSParm, 0xc0cc5616},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

func TestStructLayout(t *testing.T) {
	is64 := unsafe.Sizeof(uintptr(0)) == 8
	var b buffer
	var f format
	for _, c := range []struct {
		name     string
		got      uintptr
		w64, w32 uintptr
	}{
		{"v4l2_capability", unsafe.Sizeof(capability{}), 104, 104},
		{"v4l2_fmtdesc", unsafe.Sizeof(fmtDesc{}), 64, 64},
		{"v4l2_pix_format", unsafe.Sizeof(pixFormat{}), 48, 48},
		{"v4l2_format", unsafe.Sizeof(f), 208, 204},
		{"v4l2_format.fmt", unsafe.Offsetof(f.fmt), 8, 4},
		{"v4l2_requestbuffers", unsafe.Sizeof(requestBuffers{}), 20, 20},
		{"v4l2_buffer", unsafe.Sizeof(b), 88, 68},
		{"v4l2_buffer.timestamp", unsafe.Offsetof(b.timestamp), 24, 20},
		{"v4l2_buffer.sequence", unsafe.Offsetof(b.sequence), 56, 44},
		{"v4l2_buffer.m", unsafe.Offsetof(b.m), 64, 52},
		{"v4l2_buffer.length", unsafe.Offsetof(b.length), 72, 56},
		{"v4l2_captureparm", unsafe.Sizeof(captureParm{}), 40, 40},
		{"v4l2_streamparm", unsafe.Sizeof(streamParm{}), 204, 204},
	} {
		want := c.w32
		if is64 {
			want = c.w64
		}
		if c.got != want {
			t.Errorf("%s = %d, want %d", c.name, c.got, want)
		}
	}
}

func TestFourCC(t *testing.T) {
	if PixFmtMJPEG != 0x47504a4d || PixFmtMJPEG.String() != "MJPG" || FourCC(0x56595559).String() != "YUYV" {
		t.Fatalf("fourcc: %#x %q", uint32(PixFmtMJPEG), PixFmtMJPEG)
	}
	if FourCC(0x01).String() != "????" {
		t.Fatal("non-printable fourcc")
	}
}
