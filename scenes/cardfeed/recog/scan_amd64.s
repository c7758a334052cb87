#include "textflag.h"

// func nextBelow(hashes [][8]uint64, q *[8]uint64, below int) (i, d int)
// The loop of scan with POPCNT: the index and distance of the first entry
// nearer than below, or len(hashes). Only called when the CPU has POPCNT.
TEXT ·nextBelow(SB), NOSPLIT, $0-56
	MOVQ hashes_base+0(FP), SI
	MOVQ hashes_len+8(FP), CX
	MOVQ q+24(FP), DI
	MOVQ below+32(FP), R8
	XORQ BX, BX

loop:
	CMPQ BX, CX
	JGE  none
	MOVQ 0(SI), AX
	XORQ 0(DI), AX
	POPCNTQ AX, DX
	MOVQ 8(SI), AX
	XORQ 8(DI), AX
	POPCNTQ AX, AX
	ADDQ AX, DX
	MOVQ 16(SI), R9
	XORQ 16(DI), R9
	POPCNTQ R9, R9
	ADDQ R9, DX
	MOVQ 24(SI), R10
	XORQ 24(DI), R10
	POPCNTQ R10, R10
	ADDQ R10, DX
	MOVQ 32(SI), R11
	XORQ 32(DI), R11
	POPCNTQ R11, R11
	ADDQ R11, DX
	MOVQ 40(SI), AX
	XORQ 40(DI), AX
	POPCNTQ AX, AX
	ADDQ AX, DX
	MOVQ 48(SI), R9
	XORQ 48(DI), R9
	POPCNTQ R9, R9
	ADDQ R9, DX
	MOVQ 56(SI), R10
	XORQ 56(DI), R10
	POPCNTQ R10, R10
	ADDQ R10, DX
	CMPQ DX, R8
	JLT  found
	ADDQ $64, SI
	INCQ BX
	JMP  loop

found:
	MOVQ BX, i+40(FP)
	MOVQ DX, d+48(FP)
	RET

none:
	MOVQ CX, i+40(FP)
	MOVQ $0, d+48(FP)
	RET
