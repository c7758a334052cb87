// Package picam owns the camera: it runs rpicam-vid (libcamera) as a
// supervised child process, cuts its MJPEG output into JPEG frames, and keeps
// the newest frame in one slot that any number of readers wait on.
//
// The Pi camera is exclusive (one process may open it), so one Owner holds it
// and every scene reads frames from the Owner: slow readers skip frames, they
// never queue. SetActive pauses the camera process while nobody needs it.
// Frames lent by a BorrowingSource (RPiCam) are copied into memory the owner
// reuses once no reader holds them (Hold, Release), and waiting readers are
// woken through channels it keeps: a steady stream allocates nothing.
//
// References:
//   - rpicam-apps (rpicam-vid options, --codec mjpeg, --flush):
//     https://www.raspberrypi.com/documentation/computers/camera_software.html
//   - JPEG markers (SOI, SOF, SOS, RSTn, EOI; ITU-T T.81 Annex B):
//     https://www.w3.org/Graphics/JPEG/itu-t81.pdf
//   - EXIF APP1 thumbnails (JEITA CP-3451): https://www.cipa.jp/std/documents/e/DC-008-2012_E.pdf
package picam
