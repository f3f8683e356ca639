/* Client of the link emulator's control socket (emu_ctl.h). */
#include "emu_ctl.h"
#include "emu_config.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

int emu_ctl_request(const char *path, const char *req, char **reply)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {EMU_CTL_TIMEOUT_MS / 1000, (EMU_CTL_TIMEOUT_MS % 1000) * 1000};
	char *buf = NULL;
	ssize_t n;
	int fd, err;

	*reply = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		goto fail;
	buf = malloc(EMU_CTL_MSG_MAX + 1);
	if (!buf) {
		errno = ENOMEM;
		goto fail;
	}
	n = recv(fd, buf, EMU_CTL_MSG_MAX, 0);
	if (n < 0) {
		if (errno == EAGAIN)
			errno = ETIMEDOUT;
		goto fail;
	}
	if (n == 0) {
		errno = ECONNRESET;
		goto fail;
	}
	buf[n] = '\0';
	close(fd);
	*reply = buf;
	return 0;
fail:
	err = -errno;
	free(buf);
	close(fd);
	return err;
}

/* Send a request object (stolen), check "ok"; on success *out gets the reply. */
static int call(const char *path, json_t *req, json_t **out)
{
	char *text, *reply = NULL;
	json_t *r;
	int rc;

	if (out)
		*out = NULL;
	if (!req)
		return -ENOMEM;
	text = json_dumps(req, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(req);
	if (!text)
		return -ENOMEM;
	rc = emu_ctl_request(path, text, &reply);
	free(text);
	if (rc)
		return rc;
	r = json_loads(reply, 0, NULL);
	free(reply);
	if (!r)
		return -EPROTO;
	if (!json_is_true(json_object_get(r, "ok"))) {
		json_int_t e = json_integer_value(json_object_get(r, "errno"));

		json_decref(r);
		return e > 0 ? -(int)e : -EPROTO;
	}
	if (out)
		*out = r;
	else
		json_decref(r);
	return 0;
}

int emu_ctl_set(const char *path, int dir_mask, const struct topo_dir *params)
{
	json_t *p;

	if (dir_mask < 1 || dir_mask > 3)
		return -EINVAL;
	p = emu_params_to_json(params);
	if (!p)
		return -ENOMEM;
	return call(path, json_pack("{s:s, s:i, s:o}", "cmd", "set", "dirs", dir_mask, "params", p),
		    NULL);
}

int emu_ctl_blackhole(const char *path, bool on)
{
	return call(path, json_pack("{s:s, s:b}", "cmd", "blackhole", "on", on), NULL);
}

int emu_ctl_stats(const char *path, char **json_out)
{
	json_t *r;
	int rc = call(path, json_pack("{s:s}", "cmd", "stats"), &r);

	*json_out = NULL;
	if (rc)
		return rc;
	*json_out = json_dumps(json_object_get(r, "stats"), JSON_INDENT(2));
	json_decref(r);
	return *json_out ? 0 : -EPROTO;
}
