package v4l2

import "unsafe"

// ioctl request encoding of asm-generic/ioctl.h, used by arm, arm64, x86 and
// riscv: dir<<30 | size<<16 | type<<8 | nr. (mips, powerpc and sparc differ.)
const (
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | typ<<8 | nr
}

func iowr(nr, size uintptr) uintptr { return ioc(iocRead|iocWrite, 'V', nr, size) }
func ior(nr, size uintptr) uintptr  { return ioc(iocRead, 'V', nr, size) }
func iow(nr, size uintptr) uintptr  { return ioc(iocWrite, 'V', nr, size) }

// Request numbers from linux/videodev2.h, computed from this package's struct
// sizes so they are right on 32- and 64-bit alike.
var (
	vidiocQueryCap  = ior(0, unsafe.Sizeof(capability{}))
	vidiocEnumFmt   = iowr(2, unsafe.Sizeof(fmtDesc{}))
	vidiocSFmt      = iowr(5, unsafe.Sizeof(format{}))
	vidiocReqBufs   = iowr(8, unsafe.Sizeof(requestBuffers{}))
	vidiocQueryBuf  = iowr(9, unsafe.Sizeof(buffer{}))
	vidiocQBuf      = iowr(15, unsafe.Sizeof(buffer{}))
	vidiocDQBuf     = iowr(17, unsafe.Sizeof(buffer{}))
	vidiocStreamOn  = iow(18, unsafe.Sizeof(int32(0)))
	vidiocStreamOff = iow(19, unsafe.Sizeof(int32(0)))
	vidiocSParm     = iowr(22, unsafe.Sizeof(streamParm{}))
)

// Constants from linux/videodev2.h.
const (
	bufTypeVideoCapture = 1
	memoryMMAP          = 1
	fieldAny            = 0

	capVideoCapture = 0x00000001
	capStreaming    = 0x04000000
	capDeviceCaps   = 0x80000000

	bufFlagError = 0x00000040
)

// FourCC is a V4L2 pixel format code.
type FourCC uint32

// Pixel formats a UVC webcam streams compressed.
const (
	PixFmtMJPEG FourCC = 'M' | 'J'<<8 | 'P'<<16 | 'G'<<24
	PixFmtJPEG  FourCC = 'J' | 'P'<<8 | 'E'<<16 | 'G'<<24
)

func (f FourCC) String() string {
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for i, c := range b {
		if c < ' ' || c > '~' {
			b[i] = '?'
		}
	}
	return string(b)
}

// struct v4l2_capability (104 bytes).
type capability struct {
	driver       [16]byte
	card         [32]byte
	busInfo      [32]byte
	version      uint32
	capabilities uint32
	deviceCaps   uint32
	reserved     [3]uint32
}

// struct v4l2_fmtdesc (64 bytes).
type fmtDesc struct {
	index       uint32
	typ         uint32
	flags       uint32
	description [32]byte
	pixelFormat uint32
	mbusCode    uint32
	reserved    [3]uint32
}

// struct v4l2_pix_format (48 bytes), the start of v4l2_format's union.
type pixFormat struct {
	width        uint32
	height       uint32
	pixelFormat  uint32
	field        uint32
	bytesPerLine uint32
	sizeImage    uint32
	colorspace   uint32
	priv         uint32
	flags        uint32
	ycbcrEnc     uint32
	quantization uint32
	xferFunc     uint32
}

// struct v4l2_format: the union holds struct v4l2_window, which has pointers,
// so it is pointer-aligned: 208 bytes on 64-bit, 204 on 32-bit.
type format struct {
	typ uint32
	fmt formatUnion
}

type formatUnion struct {
	_   [0]uintptr // pointer alignment, as in C
	raw [200]byte
}

func (f *format) pix() *pixFormat { return (*pixFormat)(unsafe.Pointer(&f.fmt.raw[0])) }

// struct v4l2_requestbuffers (20 bytes).
type requestBuffers struct {
	count        uint32
	typ          uint32
	memory       uint32
	capabilities uint32
	flags        uint8
	reserved     [3]uint8
}

// struct timeval as the kernel's 32-bit-time ABI sees it: two C longs. On
// 32-bit ARM this selects the VIDIOC_*BUF_TIME32 layout every kernel accepts.
type timeval struct {
	sec  int
	usec int
}

// struct v4l2_buffer: 88 bytes on 64-bit, 68 on 32-bit.
type buffer struct {
	index     uint32
	typ       uint32
	bytesUsed uint32
	flags     uint32
	field     uint32
	timestamp timeval
	timecode  [16]byte // struct v4l2_timecode
	sequence  uint32
	memory    uint32
	m         uintptr // union { __u32 offset; unsigned long userptr; ... }
	length    uint32
	reserved2 uint32
	requestFD int32
}

// offset reads the mmap offset member of the m union (the low 32 bits on
// little-endian machines).
func (b *buffer) offset() uint32 { return *(*uint32)(unsafe.Pointer(&b.m)) }

// struct v4l2_fract.
type fract struct {
	numerator   uint32
	denominator uint32
}

// struct v4l2_captureparm (40 bytes).
type captureParm struct {
	capability   uint32
	captureMode  uint32
	timePerFrame fract
	extendedMode uint32
	readBuffers  uint32
	reserved     [4]uint32
}

// struct v4l2_streamparm (204 bytes: the union is only 32-bit aligned).
type streamParm struct {
	typ  uint32
	parm [200]byte
}

func (p *streamParm) capture() *captureParm { return (*captureParm)(unsafe.Pointer(&p.parm[0])) }
