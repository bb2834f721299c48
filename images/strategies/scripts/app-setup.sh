#!/bin/sh
# The application's last steps, the same in every strategy: the non-root user `app`, and for
# the sample Django app the SQLite database (migrate + seed_data) created at build time.
# A "bring your own requirements" build has no manage.py: only the user is made.
set -eu
if ! id app > /dev/null 2>&1; then
	if command -v useradd > /dev/null; then
		useradd --system --user-group --no-create-home --home-dir /opt/app --shell /bin/false app
	elif command -v adduser > /dev/null; then
		addgroup -S app && adduser -S -D -H -h /opt/app -s /bin/false -G app app
	else
		echo 'app:x:10001:10001:app:/opt/app:/bin/false' >> /etc/passwd
		echo 'app:x:10001:' >> /etc/group
	fi
fi
mkdir -p /opt/app/var
if [ -f /opt/app/manage.py ]; then
	cd /opt/app
	PYTHON=$(command -v python3 || command -v python)
	"$PYTHON" manage.py migrate --noinput
	"$PYTHON" manage.py seed_data
fi
chown -R app:app /opt/app/var
