/* Shared by the files of the autovoice command. */
#ifndef AV_CLI_H
#define AV_CLI_H

enum { AV_CLI_OK = 0, AV_CLI_FAILED = 1, AV_CLI_USAGE = 2 };

int av_cli_inspect(int argc, char **argv);
int av_cli_run(int argc, char **argv);
int av_cli_convert(int argc, char **argv);
int av_cli_f0(int argc, char **argv);

#endif
