/* board.c: mps2-an386 board support: CMSDK APB UARTs, SysTick millisecond tick,
 * semihosting exit. Register layouts from the CMSDK UART and ARMv7-M references. */
#include <stdint.h>

#include "ert_board.h"

const char ert_board_name[] = "mps2-an386";

/* AN386 system clock (QEMU models it at 25 MHz). */
#define ERT_SYSCLK_HZ 25000000u

/* CMSDK APB UART: UART0 at 0x40004000, UART1 at 0x40005000. */
typedef struct {
    volatile uint32_t data;      /* 0x00: bits 7:0 */
    volatile uint32_t state;     /* 0x04: bit0 TX full, bit1 RX full, bit2/3 overruns (write 1 to clear) */
    volatile uint32_t ctrl;      /* 0x08: bit0 TX enable, bit1 RX enable */
    volatile uint32_t intstatus; /* 0x0c */
    volatile uint32_t bauddiv;   /* 0x10: >= 16 */
} ert_cmsdk_uart;

#define ERT_UART_STATE_TXFULL 0x1u
#define ERT_UART_STATE_RXFULL 0x2u
#define ERT_UART_STATE_OVERRUNS 0xcu
#define ERT_UART_CTRL_TXEN 0x1u
#define ERT_UART_CTRL_RXEN 0x2u
#define ERT_UART_BAUD 115200u

static ert_cmsdk_uart *uart(ert_board_port port)
{
    return (ert_cmsdk_uart *)(uintptr_t)(0x40004000u + 0x1000u * (uint32_t)port);
}

/* SysTick (ARMv7-M system control space). */
#define ERT_SYST_CSR (*(volatile uint32_t *)0xe000e010u)
#define ERT_SYST_RVR (*(volatile uint32_t *)0xe000e014u)
#define ERT_SYST_CVR (*(volatile uint32_t *)0xe000e018u)
#define ERT_SYST_CSR_ENABLE 0x1u
#define ERT_SYST_CSR_TICKINT 0x2u
#define ERT_SYST_CSR_CLKSOURCE 0x4u /* processor clock */

static volatile uint32_t ert_millis_count;

void ert_systick_handler(void)
{
    ert_millis_count++;
}

void ert_board_init(void)
{
    for (int p = ERT_BOARD_CONSOLE; p <= ERT_BOARD_LINK; p++) {
        ert_cmsdk_uart *u = uart((ert_board_port)p);
        u->ctrl = 0;
        u->bauddiv = ERT_SYSCLK_HZ / ERT_UART_BAUD; /* 217 */
        u->state = ERT_UART_STATE_OVERRUNS;         /* clear stale overrun flags */
        u->ctrl = ERT_UART_CTRL_TXEN | ERT_UART_CTRL_RXEN;
    }
    ert_millis_count = 0;
    ERT_SYST_RVR = ERT_SYSCLK_HZ / 1000u - 1u;
    ERT_SYST_CVR = 0;
    ERT_SYST_CSR = ERT_SYST_CSR_ENABLE | ERT_SYST_CSR_TICKINT | ERT_SYST_CSR_CLKSOURCE;
}

void ert_board_write(ert_board_port port, const uint8_t *data, size_t n)
{
    ert_cmsdk_uart *u = uart(port);
    for (size_t i = 0; i < n; i++) {
        while (u->state & ERT_UART_STATE_TXFULL) {
        }
        u->data = data[i];
    }
}

void ert_board_puts(ert_board_port port, const char *s)
{
    while (*s) {
        uint8_t c = (uint8_t)*s++;
        ert_board_write(port, &c, 1);
    }
}

void ert_board_put_u32(ert_board_port port, uint32_t v)
{
    char digits[11];
    int i = (int)sizeof digits - 1;
    digits[i] = '\0';
    do {
        digits[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    ert_board_puts(port, &digits[i]);
}

int ert_board_getc(ert_board_port port)
{
    ert_cmsdk_uart *u = uart(port);
    if (!(u->state & ERT_UART_STATE_RXFULL))
        return -1;
    return (int)(u->data & 0xffu);
}

/* Busy polling: the UARTs run without RX interrupts, so WFI would add a tick of latency
 * per received byte. */
void ert_board_idle(void)
{
}

uint32_t ert_board_millis(void)
{
    return ert_millis_count; /* one aligned 32-bit load: atomic on Cortex-M */
}

/* Semihosting SYS_EXIT_EXTENDED (0x20) with {ADP_Stopped_ApplicationExit, code}: under
 * `qemu-system-arm -semihosting-config enable=on,target=native` QEMU exits with `code`. */
void ert_board_exit(int code)
{
    uint32_t block[2] = {0x20026u, (uint32_t)code};
    register uint32_t r0 __asm__("r0") = 0x20u;
    register uint32_t *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    /* Without a debugger or semihosting the BKPT faults or returns: stop here. */
    for (;;)
        __asm__ volatile("wfi");
}
