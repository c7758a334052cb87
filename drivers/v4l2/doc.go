// Package v4l2 captures MJPEG from USB (UVC) webcams through the Linux V4L2
// streaming API with mmap buffers, in pure Go (no cgo): the alternative to the
// Pi camera, which goes through libcamera instead (see package picam).
//
// A Dev is a camera source with the same shape as picam.Source:
// Stream(ctx, emit) and String(). Struct layouts follow linux/videodev2.h for
// 32-bit ARM and 64-bit targets; request numbers are computed from them.
//
// References:
//   - V4L2 API: https://www.kernel.org/doc/html/latest/userspace-api/media/v4l/v4l2.html
//   - Streaming I/O (memory mapping): https://www.kernel.org/doc/html/latest/userspace-api/media/v4l/mmap.html
//   - VIDIOC_QBUF/DQBUF: https://www.kernel.org/doc/html/latest/userspace-api/media/v4l/vidioc-qbuf.html
//   - UVC (USB Video Class): https://www.usb.org/document-library/video-class-v15-document-set
package v4l2
