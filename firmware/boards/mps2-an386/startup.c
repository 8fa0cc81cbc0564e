/* startup.c: vector table and reset handler for mps2-an386 (Cortex-M4).
 * The core reads the initial stack pointer and the reset vector from address 0
 * (VTOR resets to 0; the linker script places .isr_vector there). */
#include <stdint.h>

#include "ert_board.h"

/* Linker script symbols (mps2-an386.ld). */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];

int main(void);

typedef void (*ert_vector)(void);

void ert_reset_handler(void) __attribute__((noreturn));
void ert_systick_handler(void); /* board.c */

/* Any fault or unexpected exception: say which on the console and exit with 128+number,
 * so a test sees a crash at once instead of waiting for its timeout. */
static void ert_unexpected_exception(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ert_board_puts(ERT_BOARD_CONSOLE, "\r\nfirmware: unexpected exception ");
    ert_board_put_u32(ERT_BOARD_CONSOLE, ipsr & 0x1ffu);
    ert_board_puts(ERT_BOARD_CONSOLE, " (2 NMI, 3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault)\r\n");
    ert_board_exit(128 + (int)(ipsr & 0x7fu));
}

/* The 16 core entries; the firmware polls its peripherals, so no external IRQ entries. */
__attribute__((section(".isr_vector"), used))
const ert_vector ert_vectors[16] = {
    (ert_vector)(uintptr_t)_estack, /* 0: initial SP */
    ert_reset_handler,              /* 1: Reset */
    ert_unexpected_exception,       /* 2: NMI */
    ert_unexpected_exception,       /* 3: HardFault */
    ert_unexpected_exception,       /* 4: MemManage */
    ert_unexpected_exception,       /* 5: BusFault */
    ert_unexpected_exception,       /* 6: UsageFault */
    0, 0, 0, 0,                     /* 7-10: reserved */
    ert_unexpected_exception,       /* 11: SVCall */
    ert_unexpected_exception,       /* 12: DebugMonitor */
    0,                              /* 13: reserved */
    ert_unexpected_exception,       /* 14: PendSV */
    ert_systick_handler,            /* 15: SysTick */
};

void ert_reset_handler(void)
{
    /* .data: initial values from flash to RAM; .bss: zero. Word loops, before any C code
     * that could depend on either. */
    const uint32_t *src = _sidata;
    for (uint32_t *dst = _sdata; dst < _edata;)
        *dst++ = *src++;
    for (uint32_t *dst = _sbss; dst < _ebss;)
        *dst++ = 0;
    ert_board_exit(main());
}
