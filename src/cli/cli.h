/* Shared by the files of the autovoice command. */
#ifndef AV_CLI_H
#define AV_CLI_H

enum { AV_CLI_OK = 0, AV_CLI_FAILED = 1, AV_CLI_USAGE = 2 };

/* Parse a whole string as a number in [lo, hi]; 0 (nothing stored) on failure. cmd_engine.c. */
int av_cli_parse_int(const char *s, int lo, int hi, int *out);
int av_cli_parse_double(const char *s, double lo, double hi, double *out);

/* Applies --device (cpu, cuda, cuda:N; NULL: cpu) and --precision (for CUDA: fp32, tf32, fp16;
 * NULL: fp32) to cfg. On a bad value prints "autovoice CMD: ..." and returns 0. cmd_engine.c. */
struct av_session_config;
int av_cli_device_config(const char *cmd, const char *device, const char *precision,
                         struct av_session_config *cfg);

int av_cli_inspect(int argc, char **argv);
int av_cli_run(int argc, char **argv);
int av_cli_convert(int argc, char **argv);
int av_cli_f0(int argc, char **argv);
int av_cli_bench(int argc, char **argv); /* cmd_bench.c */
int av_cli_build(int argc, char **argv); /* cmd_build.c */

#endif
