/* Child-process management for the fake gapcoind (see fake_node.h). */
#include "fake_gapcoind/fake_node.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "support/test_support.h"

#define PYTHON "/usr/bin/python3"

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

static void parse_hello(fake_node *node, const char *line)
{
    cJSON *hello = cJSON_Parse(line);
    if (!hello)
        fail_msg("fake node said: %s", line);
    node->port = cJSON_GetObjectItem(hello, "port")->valueint;
    copy_str(node->generation, sizeof node->generation,
             cJSON_GetObjectItem(hello, "generation")->valuestring);
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(hello, "txids"))
    {
        assert_true(node->name_count < FAKE_NODE_MAX_NAMES);
        copy_str(node->names[node->name_count], 32, it->string);
        copy_str(node->txids[node->name_count], 65, it->valuestring);
        node->name_count++;
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(hello, "blocks"))
    {
        assert_true(node->block_count < FAKE_NODE_MAX_BLOCKS);
        copy_str(node->blocks[node->block_count++], 65, it->valuestring);
    }
    cJSON_Delete(hello);
}

void fake_node_start(fake_node *node, const char *scenario, const char *const *extra_args)
{
    memset(node, 0, sizeof *node);
    char script[4096], scen[4096];
    snprintf(script, sizeof script, "%s", icms_test_data_path("../fake_gapcoind/fake_gapcoind.py"));
    /* A scenario under tests/data, or one a test wrote itself (an absolute path). */
    snprintf(scen, sizeof scen, "%s", scenario[0] == '/' ? scenario : icms_test_data_path(scenario));
    const char *argv[16] = {PYTHON, script, scen};
    size_t argc = 3;
    for (size_t i = 0; extra_args && extra_args[i]; i++) {
        assert_true(argc < 15);
        argv[argc++] = extra_args[i];
    }
    argv[argc] = NULL;

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Die with the test, even when it crashes, and keep ctest's pipes free of us. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0 && !getenv("FAKE_NODE_STDERR"))
            dup2(devnull, STDERR_FILENO);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(PYTHON, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    node->pid = pid;

    char line[8192];
    size_t used = 0;
    while (used < sizeof line - 1) {
        struct pollfd p = {fds[0], POLLIN, 0};
        int r = poll(&p, 1, 15000);
        if (r <= 0)
            fail_msg("fake node did not start within 15 s");
        ssize_t n = read(fds[0], line + used, sizeof line - 1 - used);
        if (n <= 0)
            fail_msg("fake node exited before listening (scenario %s)", scenario);
        used += (size_t)n;
        line[used] = '\0';
        if (strchr(line, '\n'))
            break;
    }
    close(fds[0]);
    parse_hello(node, line);
}

void fake_node_stop(fake_node *node)
{
    if (node->pid > 0) {
        kill(node->pid, SIGTERM);
        int status;
        while (waitpid(node->pid, &status, 0) < 0 && errno == EINTR) {
        }
        node->pid = 0;
    }
}

const char *fake_node_txid(const fake_node *node, const char *name)
{
    for (size_t i = 0; i < node->name_count; i++)
        if (strcmp(node->names[i], name) == 0)
            return node->txids[i];
    fail_msg("scenario has no transaction named %s", name);
    return NULL;
}

const char *fake_node_url(const fake_node *node, const char *path, int tls)
{
    static char url[512];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", tls ? "https" : "http", node->port, path);
    return url;
}

int fake_node_unused_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}
