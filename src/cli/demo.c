/* icms demo: placeholder while the demo is written. */
#include "cli.h"

int cli_demo(cli *c)
{
    (void)c;
    return cli_fail(ICMS_ERROR, "the demo is not written yet");
}
