# sm: all seven commands in one image, running as a non-root user.
#   docker build -t registry.example/sm:0.2.0 .
#   docker run --rm registry.example/sm:0.2.0 sm-read
# BASE is for engines that cannot pull debian:12-slim (an imported
# debootstrap image: scripts/image-check.sh); both stages must use it.
ARG BASE=debian:12-slim
# Build stage: the project's own Makefile, Debian 12's libraries (`make all`
# asks pkg-config for the commands' packages only, not the tests' cmocka).
FROM ${BASE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc make libc6-dev pkg-config \
      libjson-c-dev libcurl4-openssl-dev libmariadb-dev \
      libmicrohttpd-dev libgnutls28-dev libcrypt-dev libncurses-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY lib/ lib/
COPY cmd/ cmd/
COPY man/ man/
COPY web/ web/
RUN make -j"$(nproc)" all \
 && make install DESTDIR=/out PREFIX=/usr/local

# Run stage: only the shared libraries the binaries link, curl for the
# receivers' liveness probe, and the chart library sm-tail --listen's page
# loads from /usr/share/javascript/dygraphs (served from its own origin).
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libjson-c5 libcurl4 libmariadb3 libmicrohttpd12 libgnutls30 \
      libcrypt1 libncursesw6 \
      ca-certificates curl libjs-dygraphs \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 sm \
 && useradd --system --uid 10001 --gid sm --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin sm
COPY --from=build /out/usr/local/ /usr/local/
USER 10001:10001
CMD ["sm-read", "--help"]
