/* ./meld, the command-line front end: the commands are in cli.c (a
 * library of their own, so the tests can walk their option tables). */
#include "pipeline/cli/commands.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
