/* ert_board.h: what the firmware needs from a board (MCU port or the host port).
 * Polled I/O, no heap, no interrupts other than the board's own millisecond tick. */
#ifndef ERT_BOARD_H
#define ERT_BOARD_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    ERT_BOARD_CONSOLE = 0, /* debug text (mps2-an386: UART0, QEMU's first -serial) */
    ERT_BOARD_LINK = 1,    /* the controller link (mps2-an386: UART1, the second -serial) */
} ert_board_port;

/* Name of the board, e.g. "mps2-an386". */
extern const char ert_board_name[];

/* Sets up the UARTs and the millisecond time base. Call once, first. */
void ert_board_init(void);

/* Writes n bytes, blocking while the transmitter is full. */
void ert_board_write(ert_board_port port, const uint8_t *data, size_t n);

/* Writes a NUL-terminated string (console text). */
void ert_board_puts(ert_board_port port, const char *s);

/* Writes v in decimal. */
void ert_board_put_u32(ert_board_port port, uint32_t v);

/* Returns the next received byte (0..255), or -1 if none is waiting. Never blocks. */
int ert_board_getc(ert_board_port port);

/* Called by the main loop when no link byte was waiting: may sleep until a byte arrives
 * or about a millisecond passes (the host port polls; mps2-an386 returns at once). */
void ert_board_idle(void);

/* Milliseconds since ert_board_init (wraps after 49.7 days). */
uint32_t ert_board_millis(void);

/* Ends the program with an exit status the host sees (QEMU: semihosting exit). */
void ert_board_exit(int code) __attribute__((noreturn));

#endif
