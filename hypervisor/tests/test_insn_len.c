/*
 * test_insn_len.c - unit tests of the instruction length decoder
 * (arch/x86/insn_len.c).
 *
 * The big table holds real encodings produced by GNU as (.code64/.code32/
 * .code16) with the lengths objdump reported for them, written down here
 * so the test needs no assembler.  The smaller tests cover what the table
 * cannot: prefix stacking, the 15-byte limit, truncated input, invalid
 * opcodes and vendor-specific choices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/insn_len.c"

struct enc {
    enum insn_mode mode;
    int len;
    const char *bytes;
    const char *text;
};

static const struct enc encodings[] = {
    { INSN_MODE_64, 2, "\x0f\xa2", "cpuid" },
    { INSN_MODE_64, 2, "\x0f\x32", "rdmsr" },
    { INSN_MODE_64, 2, "\x0f\x30", "wrmsr" },
    { INSN_MODE_64, 3, "\x0f\x01\xd9", "vmmcall" },
    { INSN_MODE_64, 3, "\x0f\x01\xd8", "vmrun" },
    { INSN_MODE_64, 3, "\x0f\x01\xda", "vmload" },
    { INSN_MODE_64, 3, "\x0f\x01\xdb", "vmsave" },
    { INSN_MODE_64, 3, "\x0f\x01\xdc", "stgi" },
    { INSN_MODE_64, 3, "\x0f\x01\xdd", "clgi" },
    { INSN_MODE_64, 1, "\xf4", "hlt" },
    { INSN_MODE_64, 3, "\x0f\x01\x38", "invlpg (%rax)" },
    { INSN_MODE_64, 7, "\x0f\x01\x3d\x78\x56\x34\x12", "invlpg 0x12345678(%rip)" },
    { INSN_MODE_64, 5, "\x0f\x01\x7c\x98\x10", "invlpg 0x10(%rax,%rbx,4)" },
    { INSN_MODE_64, 3, "\x0f\x01\xdf", "invlpga" },
    { INSN_MODE_64, 3, "\x0f\x20\xc0", "mov %cr0,%rax" },
    { INSN_MODE_64, 3, "\x0f\x22\xd8", "mov %rax,%cr3" },
    { INSN_MODE_64, 4, "\x41\x0f\x20\xe1", "mov %cr4,%r9" },
    { INSN_MODE_64, 4, "\x45\x0f\x22\xc2", "mov %r10,%cr8" },
    { INSN_MODE_64, 3, "\x0f\x21\xf8", "mov %db7,%rax" },
    { INSN_MODE_64, 2, "\xe4\x60", "in $0x60,%al" },
    { INSN_MODE_64, 2, "\xe5\x60", "in $0x60,%eax" },
    { INSN_MODE_64, 1, "\xec", "in (%dx),%al" },
    { INSN_MODE_64, 2, "\x66\xed", "in (%dx),%ax" },
    { INSN_MODE_64, 2, "\xe6\x80", "out %al,$0x80" },
    { INSN_MODE_64, 1, "\xef", "out %eax,(%dx)" },
    { INSN_MODE_64, 1, "\x6e", "outsb %ds:(%rsi),(%dx)" },
    { INSN_MODE_64, 3, "\x66\xf3\x6f", "rep outsw %ds:(%rsi),(%dx)" },
    { INSN_MODE_64, 2, "\xf3\x6d", "rep insl (%dx),%es:(%rdi)" },
    { INSN_MODE_64, 1, "\x90", "nop" },
    { INSN_MODE_64, 2, "\xf3\x90", "pause" },
    { INSN_MODE_64, 1, "\xcc", "int3" },
    { INSN_MODE_64, 2, "\xcd\x80", "int $0x80" },
    { INSN_MODE_64, 2, "\x0f\x0b", "ud2" },
    { INSN_MODE_64, 2, "\x0f\x05", "syscall" },
    { INSN_MODE_64, 2, "\x0f\x07", "sysretl" },
    { INSN_MODE_64, 2, "\x48\xcf", "iretq" },
    { INSN_MODE_64, 1, "\xc3", "ret" },
    { INSN_MODE_64, 3, "\xc2\x08\x00", "ret $0x8" },
    { INSN_MODE_64, 1, "\xcb", "lret" },
    { INSN_MODE_64, 3, "\xca\x10\x00", "lret $0x10" },
    { INSN_MODE_64, 4, "\xc8\x10\x00\x01", "enter $0x10,$0x1" },
    { INSN_MODE_64, 1, "\xc9", "leave" },
    { INSN_MODE_64, 1, "\x50", "push %rax" },
    { INSN_MODE_64, 2, "\x41\x57", "push %r15" },
    { INSN_MODE_64, 2, "\x41\x5c", "pop %r12" },
    { INSN_MODE_64, 2, "\x6a\x01", "push $0x1" },
    { INSN_MODE_64, 5, "\x68\x78\x56\x34\x12", "push $0x12345678" },
    { INSN_MODE_64, 4, "\x66\x68\x34\x12", "pushw $0x1234" },
    { INSN_MODE_64, 10, "\x48\xb8\x88\x77\x66\x55\x44\x33\x22\x11", "movabs $0x1122334455667788,%rax" },
    { INSN_MODE_64, 10, "\x49\xbb\x88\x77\x66\x55\x44\x33\x22\x11", "movabs $0x1122334455667788,%r11" },
    { INSN_MODE_64, 5, "\xb8\x78\x56\x34\x12", "mov $0x12345678,%eax" },
    { INSN_MODE_64, 4, "\x66\xb8\x34\x12", "mov $0x1234,%ax" },
    { INSN_MODE_64, 2, "\xb0\x12", "mov $0x12,%al" },
    { INSN_MODE_64, 3, "\x41\xb0\x12", "mov $0x12,%r8b" },
    { INSN_MODE_64, 9, "\xa0\x88\x77\x66\x55\x44\x33\x22\x11", "movabs 0x1122334455667788,%al" },
    { INSN_MODE_64, 9, "\xa1\x88\x77\x66\x55\x44\x33\x22\x11", "movabs 0x1122334455667788,%eax" },
    { INSN_MODE_64, 10, "\x48\xa3\x88\x77\x66\x55\x44\x33\x22\x11", "movabs %rax,0x1122334455667788" },
    { INSN_MODE_64, 6, "\x67\xa1\x78\x56\x34\x12", "addr32 mov 0x12345678,%eax" },
    { INSN_MODE_64, 2, "\x89\x03", "mov %eax,(%rbx)" },
    { INSN_MODE_64, 3, "\x48\x89\x03", "mov %rax,(%rbx)" },
    { INSN_MODE_64, 2, "\x88\x03", "mov %al,(%rbx)" },
    { INSN_MODE_64, 2, "\x88\x23", "mov %ah,(%rbx)" },
    { INSN_MODE_64, 3, "\x4d\x89\x01", "mov %r8,(%r9)" },
    { INSN_MODE_64, 4, "\x45\x89\x41\x10", "mov %r8d,0x10(%r9)" },
    { INSN_MODE_64, 8, "\x66\x45\x89\x81\x00\x10\x00\x00", "mov %r8w,0x1000(%r9)" },
    { INSN_MODE_64, 4, "\x48\x8b\x04\x24", "mov (%rsp),%rax" },
    { INSN_MODE_64, 4, "\x48\x8b\x45\x00", "mov 0x0(%rbp),%rax" },
    { INSN_MODE_64, 4, "\x49\x8b\x04\x24", "mov (%r12),%rax" },
    { INSN_MODE_64, 4, "\x49\x8b\x45\x00", "mov 0x0(%r13),%rax" },
    { INSN_MODE_64, 5, "\x48\x8b\x44\xcc\x10", "mov 0x10(%rsp,%rcx,8),%rax" },
    { INSN_MODE_64, 8, "\x48\x8b\x04\xcd\x78\x56\x34\x12", "mov 0x12345678(,%rcx,8),%rax" },
    { INSN_MODE_64, 7, "\x48\x8b\x05\x78\x56\x34\x12", "mov 0x12345678(%rip),%rax" },
    { INSN_MODE_64, 8, "\x48\x8b\x04\x25\x78\x56\x34\x12", "mov 0x12345678,%rax" },
    { INSN_MODE_64, 6, "\xc7\x00\x78\x56\x34\x12", "movl $0x12345678,(%rax)" },
    { INSN_MODE_64, 7, "\x48\xc7\x00\xff\xff\xff\xff", "movq $0xffffffffffffffff,(%rax)" },
    { INSN_MODE_64, 12, "\x48\xc7\x84\x58\x78\x56\x34\x12\x78\x56\x34\x12", "movq $0x12345678,0x12345678(%rax,%rbx,2)" },
    { INSN_MODE_64, 3, "\xc6\x01\x05", "movb $0x5,(%rcx)" },
    { INSN_MODE_64, 5, "\x66\xc7\x01\x34\x12", "movw $0x1234,(%rcx)" },
    { INSN_MODE_64, 9, "\x66\xc7\x05\x78\x56\x34\x12\x34\x12", "movw $0x1234,0x12345678(%rip)" },
    { INSN_MODE_64, 3, "\x0f\xb6\x00", "movzbl (%rax),%eax" },
    { INSN_MODE_64, 3, "\x0f\xb7\x00", "movzwl (%rax),%eax" },
    { INSN_MODE_64, 4, "\x4c\x0f\xb6\x10", "movzbq (%rax),%r10" },
    { INSN_MODE_64, 3, "\x0f\xbe\x00", "movsbl (%rax),%eax" },
    { INSN_MODE_64, 4, "\x48\x0f\xbf\x00", "movswq (%rax),%rax" },
    { INSN_MODE_64, 4, "\x66\x0f\xbe\x00", "movsbw (%rax),%ax" },
    { INSN_MODE_64, 3, "\x48\x63\x00", "movslq (%rax),%rax" },
    { INSN_MODE_64, 5, "\x48\x8d\x4c\x58\x08", "lea 0x8(%rax,%rbx,2),%rcx" },
    { INSN_MODE_64, 3, "\x67\x8d\x08", "lea (%eax),%ecx" },
    { INSN_MODE_64, 2, "\x01\xc3", "add %eax,%ebx" },
    { INSN_MODE_64, 3, "\x83\xc0\x01", "add $0x1,%eax" },
    { INSN_MODE_64, 5, "\x05\x00\x10\x00\x00", "add $0x1000,%eax" },
    { INSN_MODE_64, 2, "\x04\x10", "add $0x10,%al" },
    { INSN_MODE_64, 4, "\x66\x05\x34\x12", "add $0x1234,%ax" },
    { INSN_MODE_64, 5, "\x66\x81\x00\x34\x12", "addw $0x1234,(%rax)" },
    { INSN_MODE_64, 6, "\x81\x00\x78\x56\x34\x12", "addl $0x12345678,(%rax)" },
    { INSN_MODE_64, 4, "\x48\x83\x00\x01", "addq $0x1,(%rax)" },
    { INSN_MODE_64, 7, "\x80\x05\x78\x56\x34\x12\x01", "addb $0x1,0x12345678(%rip)" },
    { INSN_MODE_64, 3, "\x6b\xd8\x03", "imul $0x3,%eax,%ebx" },
    { INSN_MODE_64, 6, "\x69\xd8\x00\x10\x00\x00", "imul $0x1000,%eax,%ebx" },
    { INSN_MODE_64, 5, "\x66\x69\xd8\x00\x10", "imul $0x1000,%ax,%bx" },
    { INSN_MODE_64, 2, "\xa8\x01", "test $0x1,%al" },
    { INSN_MODE_64, 5, "\xa9\x78\x56\x34\x12", "test $0x12345678,%eax" },
    { INSN_MODE_64, 3, "\xf6\x00\x01", "testb $0x1,(%rax)" },
    { INSN_MODE_64, 5, "\x66\xf7\x00\x34\x12", "testw $0x1234,(%rax)" },
    { INSN_MODE_64, 7, "\xf7\x40\x08\x78\x56\x34\x12", "testl $0x12345678,0x8(%rax)" },
    { INSN_MODE_64, 8, "\x48\xf7\x40\x08\x78\x56\x34\x12", "testq $0x12345678,0x8(%rax)" },
    { INSN_MODE_64, 2, "\xf7\x10", "notl (%rax)" },
    { INSN_MODE_64, 4, "\x48\xf7\x58\x10", "negq 0x10(%rax)" },
    { INSN_MODE_64, 2, "\xf7\x20", "mull (%rax)" },
    { INSN_MODE_64, 2, "\xf6\x30", "divb (%rax)" },
    { INSN_MODE_64, 3, "\xc1\xe0\x03", "shl $0x3,%eax" },
    { INSN_MODE_64, 2, "\xd1\xe0", "shl %eax" },
    { INSN_MODE_64, 2, "\xd3\xe0", "shl %cl,%eax" },
    { INSN_MODE_64, 3, "\xc1\x00\x04", "roll $0x4,(%rax)" },
    { INSN_MODE_64, 2, "\xff\xc0", "inc %eax" },
    { INSN_MODE_64, 2, "\xff\x00", "incl (%rax)" },
    { INSN_MODE_64, 3, "\x49\xff\xc8", "dec %r8" },
    { INSN_MODE_64, 2, "\xff\xd0", "call *%rax" },
    { INSN_MODE_64, 2, "\xff\x10", "call *(%rax)" },
    { INSN_MODE_64, 6, "\xff\x25\x10\x00\x00\x00", "jmp *0x10(%rip)" },
    { INSN_MODE_64, 5, "\xe8\xfb\x00\x00\x00", "call 0x2c0" },
    { INSN_MODE_64, 5, "\xe9\xfb\x00\x00\x00", "jmp 0x2c5" },
    { INSN_MODE_64, 2, "\xeb\x00", "jmp 0x1cc" },
    { INSN_MODE_64, 2, "\x74\x00", "je 0x1ce" },
    { INSN_MODE_64, 6, "\x0f\x85\xfa\x01\x00\x00", "jne 0x3ce" },
    { INSN_MODE_64, 2, "\xe3\x00", "jrcxz 0x1d6" },
    { INSN_MODE_64, 2, "\xe2\x00", "loop 0x1d8" },
    { INSN_MODE_64, 3, "\x0f\x44\xd8", "cmove %eax,%ebx" },
    { INSN_MODE_64, 3, "\x0f\x94\xc0", "sete %al" },
    { INSN_MODE_64, 4, "\x0f\xba\xe0\x05", "bt $0x5,%eax" },
    { INSN_MODE_64, 3, "\x0f\xab\x03", "bts %eax,(%rbx)" },
    { INSN_MODE_64, 4, "\x0f\xa4\xc3\x03", "shld $0x3,%eax,%ebx" },
    { INSN_MODE_64, 3, "\x0f\xad\xc3", "shrd %cl,%eax,%ebx" },
    { INSN_MODE_64, 3, "\x0f\xc1\x03", "xadd %eax,(%rbx)" },
    { INSN_MODE_64, 4, "\xf0\x0f\xb1\x0b", "lock cmpxchg %ecx,(%rbx)" },
    { INSN_MODE_64, 5, "\xf0\x48\x0f\xc7\x0b", "lock cmpxchg16b (%rbx)" },
    { INSN_MODE_64, 3, "\x0f\xc7\x0b", "cmpxchg8b (%rbx)" },
    { INSN_MODE_64, 2, "\x0f\xc8", "bswap %eax" },
    { INSN_MODE_64, 3, "\x49\x0f\xcc", "bswap %r12" },
    { INSN_MODE_64, 4, "\xf3\x0f\xb8\xd8", "popcnt %eax,%ebx" },
    { INSN_MODE_64, 4, "\xf3\x0f\xbd\xd8", "lzcnt %eax,%ebx" },
    { INSN_MODE_64, 5, "\xf3\x48\x0f\xbc\x18", "tzcnt (%rax),%rbx" },
    { INSN_MODE_64, 1, "\x93", "xchg %eax,%ebx" },
    { INSN_MODE_64, 3, "\x48\x87\x03", "xchg %rax,(%rbx)" },
    { INSN_MODE_64, 1, "\x98", "cwtl" },
    { INSN_MODE_64, 2, "\x48\x99", "cqto" },
    { INSN_MODE_64, 2, "\x0f\x31", "rdtsc" },
    { INSN_MODE_64, 3, "\x0f\x01\xf9", "rdtscp" },
    { INSN_MODE_64, 2, "\x0f\x33", "rdpmc" },
    { INSN_MODE_64, 3, "\x0f\xc7\xf0", "rdrand %eax" },
    { INSN_MODE_64, 3, "\x0f\x01\xd0", "xgetbv" },
    { INSN_MODE_64, 3, "\x0f\x01\xd1", "xsetbv" },
    { INSN_MODE_64, 3, "\x0f\x01\xc8", "monitor %rax,%ecx,%edx" },
    { INSN_MODE_64, 3, "\x0f\x01\xc9", "mwait %eax,%ecx" },
    { INSN_MODE_64, 3, "\x0f\x01\xf8", "swapgs" },
    { INSN_MODE_64, 3, "\x0f\xae\xe8", "lfence" },
    { INSN_MODE_64, 3, "\x0f\xae\xf0", "mfence" },
    { INSN_MODE_64, 3, "\x0f\xae\xf8", "sfence" },
    { INSN_MODE_64, 3, "\x0f\xae\x38", "clflush (%rax)" },
    { INSN_MODE_64, 3, "\x0f\xae\x00", "fxsave (%rax)" },
    { INSN_MODE_64, 3, "\x0f\xae\x20", "xsave (%rax)" },
    { INSN_MODE_64, 3, "\x0f\x01\x10", "lgdt (%rax)" },
    { INSN_MODE_64, 4, "\x0f\x01\x58\x10", "lidt 0x10(%rax)" },
    { INSN_MODE_64, 3, "\x0f\x01\x00", "sgdt (%rax)" },
    { INSN_MODE_64, 3, "\x0f\x01\xf0", "lmsw %ax" },
    { INSN_MODE_64, 3, "\x0f\x01\xe0", "smsw %eax" },
    { INSN_MODE_64, 3, "\x0f\x00\xc8", "str %eax" },
    { INSN_MODE_64, 3, "\x0f\x00\xd8", "ltr %ax" },
    { INSN_MODE_64, 3, "\x0f\x00\xd0", "lldt %ax" },
    { INSN_MODE_64, 3, "\x0f\x00\xe0", "verr %ax" },
    { INSN_MODE_64, 3, "\x0f\x02\xd8", "lar %eax,%ebx" },
    { INSN_MODE_64, 1, "\xa4", "movsb %ds:(%rsi),%es:(%rdi)" },
    { INSN_MODE_64, 3, "\xf3\x48\xa5", "rep movsq %ds:(%rsi),%es:(%rdi)" },
    { INSN_MODE_64, 2, "\xf3\xaa", "rep stos %al,%es:(%rdi)" },
    { INSN_MODE_64, 2, "\xf2\xae", "repnz scas %es:(%rdi),%al" },
    { INSN_MODE_64, 2, "\x66\xa7", "cmpsw %es:(%rdi),%ds:(%rsi)" },
    { INSN_MODE_64, 1, "\xad", "lods %ds:(%rsi),%eax" },
    { INSN_MODE_64, 1, "\xfc", "cld" },
    { INSN_MODE_64, 1, "\xfd", "std" },
    { INSN_MODE_64, 1, "\xfa", "cli" },
    { INSN_MODE_64, 1, "\xfb", "sti" },
    { INSN_MODE_64, 1, "\xf8", "clc" },
    { INSN_MODE_64, 1, "\xf5", "cmc" },
    { INSN_MODE_64, 1, "\x9e", "sahf" },
    { INSN_MODE_64, 1, "\x9f", "lahf" },
    { INSN_MODE_64, 2, "\xd9\xee", "fldz" },
    { INSN_MODE_64, 2, "\xd9\xc1", "fld %st(1)" },
    { INSN_MODE_64, 2, "\xdd\x00", "fldl (%rax)" },
    { INSN_MODE_64, 4, "\xd9\x5c\x24\x10", "fstps 0x10(%rsp)" },
    { INSN_MODE_64, 2, "\xd9\x38", "fnstcw (%rax)" },
    { INSN_MODE_64, 2, "\xde\xc1", "faddp %st,%st(1)" },
    { INSN_MODE_64, 1, "\xd7", "xlat %ds:(%rbx)" },
    { INSN_MODE_64, 4, "\x66\x0f\x6e\xc0", "movd %eax,%xmm0" },
    { INSN_MODE_64, 5, "\x66\x48\x0f\x7e\xc0", "movq %xmm0,%rax" },
    { INSN_MODE_64, 4, "\xf3\x0f\x6f\x08", "movdqu (%rax),%xmm1" },
    { INSN_MODE_64, 4, "\x44\x0f\x28\xc0", "movaps %xmm0,%xmm8" },
    { INSN_MODE_64, 5, "\x44\x0f\x10\x78\x10", "movups 0x10(%rax),%xmm15" },
    { INSN_MODE_64, 5, "\x66\x0f\x70\xc8\x1b", "pshufd $0x1b,%xmm0,%xmm1" },
    { INSN_MODE_64, 5, "\x66\x0f\x73\xd2\x04", "psrlq $0x4,%xmm2" },
    { INSN_MODE_64, 4, "\x0f\x71\xf1\x02", "psllw $0x2,%mm1" },
    { INSN_MODE_64, 5, "\x66\x0f\xc5\xc0\x01", "pextrw $0x1,%xmm0,%eax" },
    { INSN_MODE_64, 5, "\x66\x0f\xc4\xc0\x01", "pinsrw $0x1,%eax,%xmm0" },
    { INSN_MODE_64, 4, "\x0f\xc6\xc8\x01", "shufps $0x1,%xmm0,%xmm1" },
    { INSN_MODE_64, 4, "\x0f\xc2\xc8\x01", "cmpltps %xmm0,%xmm1" },
    { INSN_MODE_64, 5, "\x66\x0f\x38\x00\xc8", "pshufb %xmm0,%xmm1" },
    { INSN_MODE_64, 5, "\x66\x0f\x38\x00\x08", "pshufb (%rax),%xmm1" },
    { INSN_MODE_64, 6, "\x66\x0f\x3a\x0f\xc8\x03", "palignr $0x3,%xmm0,%xmm1" },
    { INSN_MODE_64, 6, "\x66\x0f\x3a\x16\xc0\x01", "pextrd $0x1,%xmm0,%eax" },
    { INSN_MODE_64, 7, "\x66\x48\x0f\x3a\x22\xc0\x01", "pinsrq $0x1,%rax,%xmm0" },
    { INSN_MODE_64, 6, "\x66\x0f\x3a\x0a\xc8\x01", "roundss $0x1,%xmm0,%xmm1" },
    { INSN_MODE_64, 5, "\xf2\x0f\x38\xf0\xc0", "crc32 %al,%eax" },
    { INSN_MODE_64, 6, "\xf2\x48\x0f\x38\xf1\x00", "crc32q (%rax),%rax" },
    { INSN_MODE_64, 4, "\x0f\x38\xf0\x00", "movbe (%rax),%eax" },
    { INSN_MODE_64, 5, "\x66\x0f\x38\xdc\xc8", "aesenc %xmm0,%xmm1" },
    { INSN_MODE_64, 6, "\x66\x0f\x3a\x44\xc8\x11", "pclmulhqhqdq %xmm0,%xmm1" },
    { INSN_MODE_64, 5, "\x0f\x3a\xcc\xc8\x01", "sha1rnds4 $0x1,%xmm0,%xmm1" },
    { INSN_MODE_64, 6, "\x66\x0f\x78\xc0\x08\x04", "extrq $0x4,$0x8,%xmm0" },
    { INSN_MODE_64, 6, "\xf2\x0f\x78\xc1\x08\x04", "insertq $0x4,$0x8,%xmm1,%xmm0" },
    { INSN_MODE_64, 4, "\xc5\xfe\x6f\x00", "vmovdqu (%rax),%ymm0" },
    { INSN_MODE_64, 4, "\xc5\x7e\x7f\x00", "vmovdqu %ymm8,(%rax)" },
    { INSN_MODE_64, 4, "\xc5\xf5\xfe\xd0", "vpaddd %ymm0,%ymm1,%ymm2" },
    { INSN_MODE_64, 5, "\xc4\x41\x35\xfe\xd0", "vpaddd %ymm8,%ymm9,%ymm10" },
    { INSN_MODE_64, 3, "\xc5\xf8\x77", "vzeroupper" },
    { INSN_MODE_64, 3, "\xc5\xfc\x77", "vzeroall" },
    { INSN_MODE_64, 5, "\xc5\xfd\x70\xc8\x01", "vpshufd $0x1,%ymm0,%ymm1" },
    { INSN_MODE_64, 6, "\xc4\xe3\xfd\x00\xc8\x01", "vpermq $0x1,%ymm0,%ymm1" },
    { INSN_MODE_64, 5, "\xc4\xe2\x75\x00\xd0", "vpshufb %ymm0,%ymm1,%ymm2" },
    { INSN_MODE_64, 5, "\xc4\xe2\x7d\x18\x00", "vbroadcastss (%rax),%ymm0" },
    { INSN_MODE_64, 5, "\xc4\xe2\x75\xb8\xd0", "vfmadd231ps %ymm0,%ymm1,%ymm2" },
    { INSN_MODE_64, 6, "\xc4\xe3\x75\x18\xd0\x01", "vinsertf128 $0x1,%xmm0,%ymm1,%ymm2" },
    { INSN_MODE_64, 5, "\xc5\xf4\xc2\xd0\x01", "vcmpltps %ymm0,%ymm1,%ymm2" },
    { INSN_MODE_64, 6, "\xc4\xe3\xf9\x16\xc0\x01", "vpextrq $0x1,%xmm0,%rax" },
    { INSN_MODE_64, 5, "\xc4\xe1\xf9\x7e\xc0", "vmovq %xmm0,%rax" },
    { INSN_MODE_64, 5, "\xc4\xe2\x60\xf2\xc8", "andn %eax,%ebx,%ecx" },
    { INSN_MODE_64, 5, "\xc4\xe2\x78\xf7\x0b", "bextr %eax,(%rbx),%ecx" },
    { INSN_MODE_64, 6, "\xc4\xe3\x7b\xf0\xd8\x03", "rorx $0x3,%eax,%ebx" },
    { INSN_MODE_64, 5, "\xc4\xe2\xf9\xf7\xcb", "shlx %rax,%rbx,%rcx" },
    { INSN_MODE_64, 6, "\x62\xf1\x75\x48\xfe\xd0", "vpaddd %zmm0,%zmm1,%zmm2" },
    { INSN_MODE_64, 6, "\x62\xf1\xfe\x48\x6f\x00", "vmovdqu64 (%rax),%zmm0" },
    { INSN_MODE_64, 7, "\x62\xf1\x7e\x49\x6f\x48\x01", "vmovdqu32 0x40(%rax),%zmm1{%k1}" },
    { INSN_MODE_64, 7, "\x62\xf1\x75\x48\xfe\x50\x40", "vpaddd 0x1000(%rax),%zmm1,%zmm2" },
    { INSN_MODE_64, 7, "\x62\xf1\x7d\x48\x70\xc8\x01", "vpshufd $0x1,%zmm0,%zmm1" },
    { INSN_MODE_64, 7, "\x62\xf3\xfd\x48\x00\xc8\x01", "vpermq $0x1,%zmm0,%zmm1" },
    { INSN_MODE_64, 7, "\x62\xf3\x75\x48\x25\xd0\xff", "vpternlogd $0xff,%zmm0,%zmm1,%zmm2" },
    { INSN_MODE_64, 7, "\x62\xf1\x74\x48\xc2\xc8\x01", "vcmpltps %zmm0,%zmm1,%k1" },
    { INSN_MODE_64, 4, "\xc5\xf8\x93\xc1", "kmovw %k1,%eax" },
    { INSN_MODE_64, 6, "\x62\xf5\x74\x48\x58\xd0", "vaddph %zmm0,%zmm1,%zmm2" },
    { INSN_MODE_64, 6, "\xc7\xf8\xfa\x00\x00\x00", "xbegin 0x4a0" },
    { INSN_MODE_64, 3, "\xc6\xf8\x01", "xabort $0x1" },
    { INSN_MODE_64, 3, "\x0f\x01\xd5", "xend" },
    { INSN_MODE_64, 3, "\x0f\x01\xd6", "xtest" },
    { INSN_MODE_64, 4, "\xf3\x0f\x1e\xfa", "endbr64" },
    { INSN_MODE_64, 5, "\xf3\x48\x0f\xae\xc0", "rdfsbase %rax" },
    { INSN_MODE_64, 5, "\xf3\x48\x0f\xae\xdb", "wrgsbase %rbx" },
    { INSN_MODE_64, 3, "\x0f\x18\x08", "prefetcht0 (%rax)" },
    { INSN_MODE_64, 3, "\x0f\x0d\x08", "prefetchw (%rax)" },
    { INSN_MODE_64, 5, "\x66\x0f\x1f\x04\x00", "nopw (%rax,%rax,1)" },
    { INSN_MODE_64, 3, "\x0f\x1f\x00", "nopl (%rax)" },
    { INSN_MODE_64, 10, "\x66\x2e\x0f\x1f\x84\x00\x00\x00\x00\x00", "cs nopw 0x0(%rax,%rax,1)" },
    { INSN_MODE_64, 2, "\x2e\x90", "cs nop" },
    { INSN_MODE_64, 3, "\x64\x8b\x00", "mov %fs:(%rax),%eax" },
    { INSN_MODE_64, 9, "\x65\x48\x8b\x04\x25\x28\x00\x00\x00", "mov %gs:0x28,%rax" },
    { INSN_MODE_64, 4, "\xf0\x83\x00\x01", "lock addl $0x1,(%rax)" },
    { INSN_MODE_64, 5, "\xf0\x48\xff\x43\x10", "lock incq 0x10(%rbx)" },
    { INSN_MODE_64, 2, "\xf3\xc3", "repz ret" },
    { INSN_MODE_64, 5, "\xf2\xf0\x83\x00\x01", "xacquire lock addl $0x1,(%rax)" },
    { INSN_MODE_64, 3, "\x0f\x01\xca", "clac" },
    { INSN_MODE_64, 3, "\x0f\x01\xcb", "stac" },
    { INSN_MODE_64, 2, "\x0f\x09", "wbinvd" },
    { INSN_MODE_64, 2, "\x0f\x08", "invd" },
    { INSN_MODE_64, 2, "\x0f\xaa", "rsm" },
    { INSN_MODE_64, 2, "\x0f\x37", "getsec" },
    { INSN_MODE_64, 2, "\x0f\x34", "sysenter" },
    { INSN_MODE_64, 1, "\xf1", "int1" },
    { INSN_MODE_32, 2, "\x0f\xa2", "cpuid" },
    { INSN_MODE_32, 2, "\x0f\x32", "rdmsr" },
    { INSN_MODE_32, 3, "\x0f\x01\xd9", "vmmcall" },
    { INSN_MODE_32, 1, "\xf4", "hlt" },
    { INSN_MODE_32, 3, "\x0f\x01\x38", "invlpg (%eax)" },
    { INSN_MODE_32, 7, "\x0f\x01\x3d\x78\x56\x34\x12", "invlpg 0x12345678" },
    { INSN_MODE_32, 4, "\x0f\x01\x3c\x98", "invlpg (%eax,%ebx,4)" },
    { INSN_MODE_32, 3, "\x0f\x20\xc0", "mov %cr0,%eax" },
    { INSN_MODE_32, 3, "\x0f\x22\xd8", "mov %eax,%cr3" },
    { INSN_MODE_32, 2, "\xe4\x71", "in $0x71,%al" },
    { INSN_MODE_32, 2, "\x66\xef", "out %ax,(%dx)" },
    { INSN_MODE_32, 1, "\x40", "inc %eax" },
    { INSN_MODE_32, 1, "\x4f", "dec %edi" },
    { INSN_MODE_32, 1, "\x06", "push %es" },
    { INSN_MODE_32, 1, "\x1f", "pop %ds" },
    { INSN_MODE_32, 1, "\x0e", "push %cs" },
    { INSN_MODE_32, 5, "\x68\x78\x56\x34\x12", "push $0x12345678" },
    { INSN_MODE_32, 4, "\x66\x68\x34\x12", "pushw $0x1234" },
    { INSN_MODE_32, 1, "\x60", "pusha" },
    { INSN_MODE_32, 1, "\x61", "popa" },
    { INSN_MODE_32, 1, "\x27", "daa" },
    { INSN_MODE_32, 1, "\x3f", "aas" },
    { INSN_MODE_32, 2, "\xd4\x0a", "aam $0xa" },
    { INSN_MODE_32, 2, "\xd5\x0a", "aad $0xa" },
    { INSN_MODE_32, 1, "\xce", "into" },
    { INSN_MODE_32, 2, "\x62\x03", "bound %eax,(%ebx)" },
    { INSN_MODE_32, 2, "\xc4\x00", "les (%eax),%eax" },
    { INSN_MODE_32, 3, "\xc5\x58\x10", "lds 0x10(%eax),%ebx" },
    { INSN_MODE_32, 2, "\x63\x03", "arpl %ax,(%ebx)" },
    { INSN_MODE_32, 5, "\xb8\x78\x56\x34\x12", "mov $0x12345678,%eax" },
    { INSN_MODE_32, 4, "\x66\xb8\x34\x12", "mov $0x1234,%ax" },
    { INSN_MODE_32, 5, "\xa1\x78\x56\x34\x12", "mov 0x12345678,%eax" },
    { INSN_MODE_32, 5, "\xa2\x78\x56\x34\x12", "mov %al,0x12345678" },
    { INSN_MODE_32, 4, "\x67\xa1\x34\x12", "addr16 mov 0x1234,%eax" },
    { INSN_MODE_32, 2, "\x89\x03", "mov %eax,(%ebx)" },
    { INSN_MODE_32, 3, "\x67\x89\x00", "mov %eax,(%bx,%si)" },
    { INSN_MODE_32, 4, "\x67\x8b\x46\x10", "mov 0x10(%bp),%eax" },
    { INSN_MODE_32, 5, "\x67\x8b\x87\x34\x12", "mov 0x1234(%bx),%eax" },
    { INSN_MODE_32, 6, "\x66\xa1\x34\x12\x00\x00", "mov 0x1234,%ax" },
    { INSN_MODE_32, 6, "\xc7\x00\x78\x56\x34\x12", "movl $0x12345678,(%eax)" },
    { INSN_MODE_32, 5, "\x66\xc7\x00\x34\x12", "movw $0x1234,(%eax)" },
    { INSN_MODE_32, 4, "\xc6\x04\x24\x01", "movb $0x1,(%esp)" },
    { INSN_MODE_32, 4, "\x8b\x44\xcc\x10", "mov 0x10(%esp,%ecx,8),%eax" },
    { INSN_MODE_32, 3, "\x8b\x45\x00", "mov 0x0(%ebp),%eax" },
    { INSN_MODE_32, 7, "\x8b\x04\x8d\x78\x56\x34\x12", "mov 0x12345678(,%ecx,4),%eax" },
    { INSN_MODE_32, 7, "\x9a\x78\x56\x34\x12\x10\x00", "lcall $0x10,$0x12345678" },
    { INSN_MODE_32, 7, "\xea\x34\x12\x00\x00\x10\x00", "ljmp $0x10,$0x1234" },
    { INSN_MODE_32, 6, "\x66\x9a\x34\x12\x10\x00", "lcallw $0x10,$0x1234" },
    { INSN_MODE_32, 5, "\xe8\xfb\x00\x00\x00", "call 0x19c" },
    { INSN_MODE_32, 4, "\x66\xe8\xfc\x00", "callw 0x1a1" },
    { INSN_MODE_32, 5, "\xe9\xfb\x00\x00\x00", "jmp 0x1a5" },
    { INSN_MODE_32, 6, "\x0f\x84\xfa\x01\x00\x00", "je 0x2aa" },
    { INSN_MODE_32, 2, "\xe3\x00", "jecxz 0xb2" },
    { INSN_MODE_32, 6, "\xf7\x00\x78\x56\x34\x12", "testl $0x12345678,(%eax)" },
    { INSN_MODE_32, 5, "\x66\xf7\x00\x34\x12", "testw $0x1234,(%eax)" },
    { INSN_MODE_32, 3, "\xf6\x00\x01", "testb $0x1,(%eax)" },
    { INSN_MODE_32, 2, "\xf7\x10", "notl (%eax)" },
    { INSN_MODE_32, 5, "\x05\x78\x56\x34\x12", "add $0x12345678,%eax" },
    { INSN_MODE_32, 4, "\x66\x05\x34\x12", "add $0x1234,%ax" },
    { INSN_MODE_32, 3, "\x83\x00\x01", "addl $0x1,(%eax)" },
    { INSN_MODE_32, 5, "\x66\x69\xd8\x34\x12", "imul $0x1234,%ax,%bx" },
    { INSN_MODE_32, 4, "\xc8\x10\x00\x00", "enter $0x10,$0x0" },
    { INSN_MODE_32, 3, "\xc2\x04\x00", "ret $0x4" },
    { INSN_MODE_32, 3, "\x0f\xb6\x00", "movzbl (%eax),%eax" },
    { INSN_MODE_32, 3, "\x0f\xbf\x00", "movswl (%eax),%eax" },
    { INSN_MODE_32, 2, "\x0f\x34", "sysenter" },
    { INSN_MODE_32, 4, "\xc5\xfe\x6f\x00", "vmovdqu (%eax),%ymm0" },
    { INSN_MODE_32, 4, "\xc5\xf5\xfe\xd0", "vpaddd %ymm0,%ymm1,%ymm2" },
    { INSN_MODE_32, 3, "\xc5\xf8\x77", "vzeroupper" },
    { INSN_MODE_32, 6, "\xc4\xe3\xfd\x00\xc8\x01", "vpermq $0x1,%ymm0,%ymm1" },
    { INSN_MODE_32, 6, "\x62\xf1\x75\x48\xfe\xd0", "vpaddd %zmm0,%zmm1,%zmm2" },
    { INSN_MODE_32, 7, "\x62\xf1\x7d\x48\x70\xc8\x01", "vpshufd $0x1,%zmm0,%zmm1" },
    { INSN_MODE_32, 4, "\xf0\x0f\xc7\x08", "lock cmpxchg8b (%eax)" },
    { INSN_MODE_32, 3, "\x64\x8b\x00", "mov %fs:(%eax),%eax" },
    { INSN_MODE_32, 2, "\xf3\xa4", "rep movsb %ds:(%esi),%es:(%edi)" },
    { INSN_MODE_32, 1, "\xd7", "xlat %ds:(%ebx)" },
    { INSN_MODE_16, 2, "\x0f\xa2", "cpuid" },
    { INSN_MODE_16, 2, "\x0f\x32", "rdmsr" },
    { INSN_MODE_16, 3, "\x0f\x01\xd9", "vmmcall" },
    { INSN_MODE_16, 1, "\xf4", "hlt" },
    { INSN_MODE_16, 3, "\x0f\x01\x3f", "invlpg (%bx)" },
    { INSN_MODE_16, 5, "\x0f\x01\x3e\x34\x12", "invlpg 0x1234" },
    { INSN_MODE_16, 3, "\x0f\x20\xc0", "mov %cr0,%eax" },
    { INSN_MODE_16, 3, "\x0f\x22\xc0", "mov %eax,%cr0" },
    { INSN_MODE_16, 2, "\xe4\x60", "in $0x60,%al" },
    { INSN_MODE_16, 1, "\xee", "out %al,(%dx)" },
    { INSN_MODE_16, 3, "\xb8\x34\x12", "mov $0x1234,%ax" },
    { INSN_MODE_16, 6, "\x66\xb8\x78\x56\x34\x12", "mov $0x12345678,%eax" },
    { INSN_MODE_16, 3, "\xa1\x34\x12", "mov 0x1234,%ax" },
    { INSN_MODE_16, 3, "\xa0\x34\x12", "mov 0x1234,%al" },
    { INSN_MODE_16, 2, "\x89\x00", "mov %ax,(%bx,%si)" },
    { INSN_MODE_16, 3, "\x89\x43\x10", "mov %ax,0x10(%bp,%di)" },
    { INSN_MODE_16, 4, "\x89\x87\x34\x12", "mov %ax,0x1234(%bx)" },
    { INSN_MODE_16, 3, "\x8b\x46\x00", "mov 0x0(%bp),%ax" },
    { INSN_MODE_16, 3, "\x67\x89\x00", "mov %ax,(%eax)" },
    { INSN_MODE_16, 5, "\x67\x89\x44\x98\x10", "mov %ax,0x10(%eax,%ebx,4)" },
    { INSN_MODE_16, 4, "\x66\xa3\x78\x56", "mov %eax,0x5678" },
    { INSN_MODE_16, 4, "\xc7\x07\x34\x12", "movw $0x1234,(%bx)" },
    { INSN_MODE_16, 7, "\x66\xc7\x07\x78\x56\x34\x12", "movl $0x12345678,(%bx)" },
    { INSN_MODE_16, 5, "\xc6\x06\x34\x12\x01", "movb $0x1,0x1234" },
    { INSN_MODE_16, 3, "\x68\x34\x12", "push $0x1234" },
    { INSN_MODE_16, 6, "\x66\x68\x78\x56\x34\x12", "pushl $0x12345678" },
    { INSN_MODE_16, 5, "\x9a\x34\x12\x10\x00", "lcall $0x10,$0x1234" },
    { INSN_MODE_16, 5, "\xea\x5b\xe0\x00\xf0", "ljmp $0xf000,$0xe05b" },
    { INSN_MODE_16, 8, "\x66\x9a\x78\x56\x34\x12\x10\x00", "lcalll $0x10,$0x12345678" },
    { INSN_MODE_16, 3, "\xe8\xfd\x00", "call 0x16b" },
    { INSN_MODE_16, 6, "\x66\xe8\xfa\x00\x00\x00", "calll 0x16e" },
    { INSN_MODE_16, 3, "\xe9\xfd\x00", "jmp 0x174" },
    { INSN_MODE_16, 4, "\x0f\x84\xfc\x01", "je 0x277" },
    { INSN_MODE_16, 2, "\xeb\x00", "jmp 0x7d" },
    { INSN_MODE_16, 2, "\xcd\x10", "int $0x10" },
    { INSN_MODE_16, 1, "\xcf", "iret" },
    { INSN_MODE_16, 1, "\xcb", "lret" },
    { INSN_MODE_16, 4, "\xf7\x07\x34\x12", "testw $0x1234,(%bx)" },
    { INSN_MODE_16, 7, "\x66\xf7\x07\x78\x56\x34\x12", "testl $0x12345678,(%bx)" },
    { INSN_MODE_16, 3, "\x05\x34\x12", "add $0x1234,%ax" },
    { INSN_MODE_16, 6, "\x66\x05\x78\x56\x34\x12", "add $0x12345678,%eax" },
    { INSN_MODE_16, 4, "\xc8\x08\x00\x00", "enter $0x8,$0x0" },
    { INSN_MODE_16, 2, "\xc4\x07", "les (%bx),%ax" },
    { INSN_MODE_16, 2, "\xc5\x04", "lds (%si),%ax" },
    { INSN_MODE_16, 3, "\x0f\x01\x17", "lgdtw (%bx)" },
    { INSN_MODE_16, 4, "\x66\x0f\x01\x17", "lgdtl (%bx)" },
    { INSN_MODE_16, 5, "\x0f\x01\x1e\x34\x12", "lidtw 0x1234" },
    { INSN_MODE_16, 3, "\x0f\x01\xf0", "lmsw %ax" },
    { INSN_MODE_16, 3, "\x0f\xb6\x07", "movzbw (%bx),%ax" },
    { INSN_MODE_16, 4, "\x66\x0f\xb6\x07", "movzbl (%bx),%eax" },
    { INSN_MODE_16, 2, "\xf3\xa4", "rep movsb %ds:(%si),%es:(%di)" },
    { INSN_MODE_16, 3, "\x66\xf3\xa5", "rep movsl %ds:(%si),%es:(%di)" },
    { INSN_MODE_16, 1, "\x93", "xchg %ax,%bx" },
    { INSN_MODE_16, 1, "\x90", "nop" },
};

static void test_real_encodings(void **state)
{
    unsigned int i, bad = 0;

    (void)state;
    for (i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++) {
        const struct enc *e = &encodings[i];
        u8 buf[INSN_MAX_LEN + 8];
        int got;

        /* Trailing bytes after the instruction must not change its length. */
        memset(buf, 0x90, sizeof(buf));
        memcpy(buf, e->bytes, (size_t)e->len);
        got = insn_length(buf, sizeof(buf), e->mode);
        if (got != e->len) {
            print_error("%d-bit \"%s\": got %d, want %d\n", e->mode * 8, e->text, got, e->len);
            bad++;
        }
        /* Exactly the instruction's bytes are enough; one fewer is not. */
        if (insn_length(buf, (size_t)e->len, e->mode) != e->len ||
            insn_length(buf, (size_t)e->len - 1, e->mode) != INSN_ERR_TRUNCATED) {
            print_error("%d-bit \"%s\": wrong with an exact/short buffer\n", e->mode * 8, e->text);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static int len64(const char *b, size_t n)
{
    return insn_length((const u8 *)b, n, INSN_MODE_64);
}

static void test_mode_from_cs(void **state)
{
    (void)state;
    assert_int_equal(insn_mode_from_cs(true, true, false), INSN_MODE_64);
    assert_int_equal(insn_mode_from_cs(true, false, true), INSN_MODE_32);  /* compat */
    assert_int_equal(insn_mode_from_cs(true, false, false), INSN_MODE_16); /* compat, 16-bit CS */
    assert_int_equal(insn_mode_from_cs(false, false, true), INSN_MODE_32);
    assert_int_equal(insn_mode_from_cs(false, true, false), INSN_MODE_16); /* L ignored outside long mode */
    assert_int_equal(insn_length((const u8 *)"\x90", 1, (enum insn_mode)3), INSN_ERR_INVALID);
}

static void test_prefix_stacking(void **state)
{
    struct insn in;

    (void)state;
    /* REX then a legacy prefix: the REX is ignored, 66 gives imm16. */
    assert_int_equal(len64("\x48\x66\xb8\x34\x12", 5), 5);
    /* 66 then REX.W: REX.W wins, imm64. */
    assert_int_equal(len64("\x66\x48\xb8\x01\x02\x03\x04\x05\x06\x07\x08", 11), 11);
    /* Two REX: only the last counts (40 then 48 -> REX.W). */
    assert_int_equal(len64("\x40\x48\xb8\x01\x02\x03\x04\x05\x06\x07\x08", 11), 11);
    assert_int_equal(len64("\x48\x40\xb8\x01\x02\x03\x04", 7), 7);
    /* Everything at once before a CPUID exit. */
    assert_int_equal(len64("\xf0\xf2\xf3\x2e\x3e\x26\x64\x65\x36\x66\x67\x0f\xa2", 13), 13);
    /* Repeated 66 is still one operand-size override. */
    assert_int_equal(insn_length((const u8 *)"\x66\x66\x66\x05\x34\x12", 6, INSN_MODE_32), 6);
    /* 67 in 16-bit code gives 32-bit addressing with SIB. */
    assert_int_equal(insn_length((const u8 *)"\x67\x8b\x44\x24\x10", 5, INSN_MODE_16), 5);
    /* The decoder reports what it saw. */
    assert_int_equal(insn_decode((const u8 *)"\xf3\x48\x0f\xb8\xc3", 5, INSN_MODE_64, &in), 0);
    assert_int_equal(in.len, 5);
    assert_int_equal(in.rep, 0xf3);
    assert_int_equal(in.rex, 0x48);
    assert_int_equal(in.opsize, 8);
    assert_int_equal(in.map, INSN_MAP_0F);
    assert_int_equal(in.opcode, 0xb8);
    assert_int_equal(insn_decode((const u8 *)"\x8b\x05\xf0\xff\xff\xff", 6, INSN_MODE_64, &in), 0);
    assert_true(in.rip_relative);
    assert_int_equal(in.disp, -16);
    assert_int_equal(insn_decode((const u8 *)"\x8b\x05\xf0\xff\xff\xff", 6, INSN_MODE_32, &in), 0);
    assert_false(in.rip_relative); /* absolute disp32 outside 64-bit mode */
}

static void test_fifteen_byte_limit(void **state)
{
    char buf[32];

    (void)state;
    /* 14 prefixes + NOP = 15 bytes: legal. */
    memset(buf, 0x66, sizeof(buf));
    buf[14] = (char)0x90;
    assert_int_equal(len64(buf, 15), 15);
    /* 15 prefixes + NOP = 16: #GP on a real CPU. */
    buf[14] = 0x66;
    buf[15] = (char)0x90;
    assert_int_equal(len64(buf, sizeof(buf)), INSN_ERR_TOO_LONG);
    /* Too long is reported even if the caller only had 15 bytes. */
    assert_int_equal(len64(buf, 15), INSN_ERR_TOO_LONG);
    /* Prefixes + MOV imm64: 5 x 66 + 48 B8 imm64 = 15 is legal, 6 x 66 is not. */
    memcpy(buf, "\x66\x66\x66\x66\x66\x48\xb8\x01\x02\x03\x04\x05\x06\x07\x08\x09", 16);
    assert_int_equal(len64(buf, sizeof(buf)), 15);
    memcpy(buf, "\x66\x66\x66\x66\x66\x66\x48\xb8\x01\x02\x03\x04\x05\x06\x07\x08", 16);
    assert_int_equal(len64(buf, sizeof(buf)), INSN_ERR_TOO_LONG);
    /* The longest legal one: 4 prefixes + lock add with SIB, disp32, imm32. */
    assert_int_equal(len64("\x2e\x66\x67\xf0\x81\x84\x88\x78\x56\x34\x12\x78\x56", 13), 13);
    assert_int_equal(len64("\x2e\x67\xf0\x48\x81\x84\x88\x78\x56\x34\x12\x01\x02\x03\x04", 15), 15);
    /* One more prefix on that one makes 16. */
    assert_int_equal(len64("\x64\x2e\x67\xf0\x48\x81\x84\x88\x78\x56\x34\x12\x01\x02\x03\x04", 16),
                     INSN_ERR_TOO_LONG);
}

static void test_truncated(void **state)
{
    (void)state;
    assert_int_equal(len64("", 0), INSN_ERR_TRUNCATED);
    assert_int_equal(len64("\x0f", 1), INSN_ERR_TRUNCATED);
    assert_int_equal(len64("\x66\x67", 2), INSN_ERR_TRUNCATED);
    assert_int_equal(len64("\x0f\x01", 2), INSN_ERR_TRUNCATED);
    assert_int_equal(len64("\x48\xb8\x01\x02\x03\x04\x05\x06\x07", 9), INSN_ERR_TRUNCATED);
    assert_int_equal(len64("\x8b\x44", 2), INSN_ERR_TRUNCATED);          /* SIB missing */
    assert_int_equal(len64("\x8b\x80\x01\x02\x03", 5), INSN_ERR_TRUNCATED); /* disp32 short */
    assert_int_equal(len64("\xc4\xe2", 2), INSN_ERR_TRUNCATED);
    assert_int_equal(len64("\x62\xf1\x7c", 3), INSN_ERR_TRUNCATED);
    assert_int_equal(len64("\xf7", 1), INSN_ERR_TRUNCATED);              /* group 3 needs ModRM */
    /* C5 alone outside 64-bit mode: VEX or LDS cannot be told yet. */
    assert_int_equal(insn_length((const u8 *)"\xc5", 1, INSN_MODE_32), INSN_ERR_TRUNCATED);
}

static void test_invalid_opcodes(void **state)
{
    static const char *const inv64[] = {
        "\x06", "\x07", "\x0e", "\x16", "\x17", "\x1e", "\x1f", "\x27", "\x2f", "\x37",
        "\x3f", "\x60", "\x61", "\x82\xc0\x01", "\x9a\x00\x00\x00\x00\x00\x00",
        "\xce", "\xd4\x0a", "\xd5\x0a", "\xea\x00\x00\x00\x00\x00\x00",
    };
    static const char *const inv_all[] = {
        "\xd6",                       /* SALC: undefined */
        "\x0f\x0f\xc1\x9e",           /* 3DNow! pfadd */
        "\x0f\x0e",                   /* femms */
        "\x0f\x04", "\x0f\x0a", "\x0f\x0c", "\x0f\x24\xc0", "\x0f\x26\xc0", "\x0f\x36",
        "\x0f\x39", "\x0f\x3b", "\x0f\x7a\xc0", "\x0f\xa6", "\x0f\xa7",
        "\x0f\xb8\x00\x00\x00\x00",   /* JMPE (only with F3 is it POPCNT) */
        "\x8f\xe8\x78\xa2\xc1\x10",   /* AMD XOP */
    };
    unsigned int i;

    (void)state;
    for (i = 0; i < sizeof(inv64) / sizeof(inv64[0]); i++) {
        assert_int_equal(len64(inv64[i], 8), INSN_ERR_INVALID);
        /* ...but they are fine in 32-bit code. */
        assert_true(insn_length((const u8 *)inv64[i], 8, INSN_MODE_32) > 0);
    }
    for (i = 0; i < sizeof(inv_all) / sizeof(inv_all[0]); i++) {
        assert_int_equal(len64(inv_all[i], 8), INSN_ERR_INVALID);
        assert_int_equal(insn_length((const u8 *)inv_all[i], 8, INSN_MODE_32), INSN_ERR_INVALID);
    }
}

static void test_vex_evex_rules(void **state)
{
    (void)state;
    /* Legacy 66/F2/F3/LOCK/REX before VEX is #UD. */
    assert_int_equal(len64("\x66\xc5\xfd\x6f\x00", 5), INSN_ERR_INVALID);
    assert_int_equal(len64("\xf3\xc5\xfd\x6f\x00", 5), INSN_ERR_INVALID);
    assert_int_equal(len64("\x48\xc4\xe1\x7d\x6f\x00", 6), INSN_ERR_INVALID);
    assert_int_equal(len64("\xf0\x62\xf1\x7d\x48\xfe\xd0", 7), INSN_ERR_INVALID);
    /* A segment override before VEX is allowed. */
    assert_int_equal(len64("\x64\xc5\xfd\x6f\x00", 5), 5);
    /* VEX3 map 0 and 4+ do not exist. */
    assert_int_equal(len64("\xc4\xe0\x7d\x6f\x00", 5), INSN_ERR_INVALID);
    assert_int_equal(len64("\xc4\xe4\x7d\x6f\x00", 5), INSN_ERR_INVALID);
    /* VEX has no 0F-map opcodes without ModRM except VZEROUPPER/ALL. */
    assert_int_equal(len64("\xc5\xf8\xa2", 3), INSN_ERR_INVALID);
    assert_int_equal(len64("\xc5\xf8\x77", 3), 3);
    /* EVEX: reserved bit P1[2] must be 1; map 0 invalid; map 5 is FP16. */
    assert_int_equal(len64("\x62\xf1\x79\x48\xfe\xd0", 6), INSN_ERR_INVALID);
    assert_int_equal(len64("\x62\xf0\x7d\x48\xfe\xd0", 6), INSN_ERR_INVALID);
    assert_int_equal(len64("\x62\xf5\x74\x48\x58\xd0", 6), 6);
    /* EVEX with disp8 (compressed, still one byte) and with disp32. */
    assert_int_equal(len64("\x62\xf1\x7d\x48\xfe\x50\x01", 7), 7);
    assert_int_equal(len64("\x62\xf1\x7d\x48\xfe\x90\x00\x10\x00\x00", 10), 10);
    /* In 32-bit code C4/C5/62 with a memory-form next byte are LES/LDS/BOUND. */
    assert_int_equal(insn_length((const u8 *)"\xc5\x18", 2, INSN_MODE_32), 2);
    assert_int_equal(insn_length((const u8 *)"\xc4\x40\x10", 3, INSN_MODE_32), 3);
    assert_int_equal(insn_length((const u8 *)"\x62\x03", 2, INSN_MODE_32), 2);
}

static void test_amd_choices_and_oddities(void **state)
{
    (void)state;
    /* 66 shortens near branch displacements in 64-bit mode (AMD). */
    assert_int_equal(len64("\x66\xe8\x00\x01", 4), 4);
    assert_int_equal(len64("\x66\xe9\x00\x01", 4), 4);
    assert_int_equal(len64("\x66\x0f\x84\x00\x01", 5), 5);
    /* MOV CR/DR ignore the mod bits: never a displacement. */
    assert_int_equal(len64("\x0f\x20\x00", 3), 3);
    assert_int_equal(len64("\x0f\x22\x58", 3), 3);
    assert_int_equal(len64("\x0f\x23\x84", 3), 3);
    /* WAIT is an instruction of its own, not an x87 prefix. */
    assert_int_equal(len64("\x9b\xd9\xee", 3), 1);
    /* TEST /1 (undocumented alias of /0) takes the immediate too. */
    assert_int_equal(len64("\xf6\xc8\x01", 3), 3);
    assert_int_equal(len64("\xf7\x08\x01\x02\x03\x04", 6), 6);
    /* F6/F7 /2../7 have none. */
    assert_int_equal(len64("\xf7\x10", 2), 2);
    /* moffs follows the address size: 8 bytes, or 4 with 67. */
    assert_int_equal(len64("\xa1\x01\x02\x03\x04\x05\x06\x07\x08", 9), 9);
    assert_int_equal(len64("\x67\xa1\x01\x02\x03\x04", 6), 6);
    assert_int_equal(insn_length((const u8 *)"\x67\xa1\x01\x02\x03\x04", 6, INSN_MODE_16), 6);
    /* 16-bit addressing: mod 00 rm 110 is disp16, not [bp]. */
    assert_int_equal(insn_length((const u8 *)"\x8b\x06\x34\x12", 4, INSN_MODE_16), 4);
    assert_int_equal(insn_length((const u8 *)"\x8b\x06\x34\x12", 4, INSN_MODE_32), 2);
    /* SIB with base 101 and mod 00: disp32, no base. */
    assert_int_equal(len64("\x8b\x04\x25\x01\x02\x03\x04", 7), 7);
    /* EXTRQ / INSERTQ (AMD SSE4a) with two imm8; VMREAD without. */
    assert_int_equal(len64("\x66\x0f\x78\xc0\x04\x08", 6), 6);
    assert_int_equal(len64("\xf2\x0f\x78\xc1\x04\x08", 6), 6);
    assert_int_equal(len64("\x0f\x78\xc1", 3), 3);
    /* UD2 is a defined two-byte instruction (the guest gets #UD). */
    assert_int_equal(len64("\x0f\x0b", 2), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_encodings),
        cmocka_unit_test(test_mode_from_cs),
        cmocka_unit_test(test_prefix_stacking),
        cmocka_unit_test(test_fifteen_byte_limit),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_invalid_opcodes),
        cmocka_unit_test(test_vex_evex_rules),
        cmocka_unit_test(test_amd_choices_and_oddities),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
