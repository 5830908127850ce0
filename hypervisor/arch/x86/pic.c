/*
 * pic.c - silence the legacy 8259 PICs.
 *
 * The LAPIC delivers everything we use.  The PICs are remapped to vectors
 * 0x20-0x2f before masking, so even a spurious IRQ7/IRQ15 lands on a vector
 * that cannot be mistaken for a CPU exception.
 */
#include <kiln/arch.h>
#include <kiln/x86.h>

void pic_disable(void)
{
    outb(0x20, 0x11);   /* ICW1: init, ICW4 follows */
    outb(0xa0, 0x11);
    outb(0x21, 0x20);   /* ICW2: master vectors 0x20.. */
    outb(0xa1, 0x28);   /*       slave vectors 0x28.. */
    outb(0x21, 0x04);   /* ICW3: slave on IRQ2 */
    outb(0xa1, 0x02);
    outb(0x21, 0x01);   /* ICW4: 8086 mode */
    outb(0xa1, 0x01);
    outb(0x21, 0xff);   /* mask everything */
    outb(0xa1, 0xff);
}
