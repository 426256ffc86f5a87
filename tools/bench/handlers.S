/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's handle functions, one per first instruction, since that
 * instruction decides what an entry uprobe costs: the kernel turns a 5-byte
 * nop into a call, emulates `push %rbp`, and single-steps most others
 * (`movzbl`, `endbr64`). Each takes the chain string in %rdi and returns
 * its first byte, like a handler that looks at its argument.
 */
	.text

	.globl	bench_nop5
	.type	bench_nop5, @function
bench_nop5:
	.byte	0x0f, 0x1f, 0x44, 0x00, 0x00	/* nopl 0x0(%rax,%rax,1) */
	movzbl	(%rdi), %eax
	ret
	.size	bench_nop5, .-bench_nop5

	.globl	bench_push
	.type	bench_push, @function
bench_push:
	push	%rbp
	mov	%rsp, %rbp
	movzbl	(%rdi), %eax
	pop	%rbp
	ret
	.size	bench_push, .-bench_push

	.globl	bench_endbr
	.type	bench_endbr, @function
bench_endbr:
	endbr64
	push	%rbp
	mov	%rsp, %rbp
	movzbl	(%rdi), %eax
	pop	%rbp
	ret
	.size	bench_endbr, .-bench_endbr

	.globl	bench_sstep
	.type	bench_sstep, @function
bench_sstep:
	movzbl	(%rdi), %eax
	ret
	.size	bench_sstep, .-bench_sstep

	.section .note.GNU-stack, "", @progbits
