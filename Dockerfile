# The API image (docker-compose.yml builds it). scripts/image-tree.mjs runs
# the same COPY and RUN steps in a folder, and test/system/image.test.ts
# checks that they match this file and that the result starts and answers:
# change both together.
#
# build:   every dependency, to compile TypeScript to dist/
# deps:    production dependencies only: no TypeScript, tsx, Prisma CLI,
#          pino-pretty or jest (the npm cache stays in this stage)
# runtime: those, the compiled code, the GraphQL schema and the migrations,
#          run by the unprivileged `node` user
# Inside it: node dist/cli/migrate.js | seed.js | token.js | refresh.js | db-report.js (--help for each).
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional as well: the Prisma CLI and TypeScript are optional peers
# of @prisma/client, which --omit=dev alone installs.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund

FROM node:${NODE_VERSION}-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
# A container listens on all its interfaces (the default is loopback only);
# what reaches it is decided where its port is published.
ENV HOST=0.0.0.0
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY schema ./schema
COPY prisma/migrations ./prisma/migrations
COPY --from=build /app/dist ./dist
# The data folder, the node user's: the generated JWT secret (when JWT_SECRET
# is unset) and, without DATABASE_URL, the embedded database. A named volume
# mounted here (docker-compose.yml's api-data) starts with this ownership.
RUN mkdir -p .data && chown node:node .data
USER node
EXPOSE 4000
CMD ["node", "--max-semi-space-size=32", "dist/main.js"]
