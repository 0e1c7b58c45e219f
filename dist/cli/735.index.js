export const id = 735;
export const ids = [735];
export const modules = {

/***/ 3735:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  createPullRequestComments: () => (/* binding */ createPullRequestComments),
  upsertStickyComment: () => (/* binding */ upsertStickyComment)
});

// EXTERNAL MODULE: ./node_modules/@actions/github/lib/github.js + 22 modules
var github = __webpack_require__(2413);
// EXTERNAL MODULE: ./src/core/secrets.ts
var secrets = __webpack_require__(8198);
// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(4296);
;// CONCATENATED MODULE: ./src/adapters/github/errors.ts

/** GitHub's API answered with a failure other than "not allowed", or could not be reached. */
class GitHubApiError extends errors/* ActionError */.lZ {
    operation;
    httpStatus;
    constructor(operation, httpStatus, detail) {
        super(`GitHub API: ${operation} failed${httpStatus ? ` (HTTP ${httpStatus})` : ''}: ${detail}`);
        this.operation = operation;
        this.httpStatus = httpStatus;
    }
}
/** The event payload file named by GITHUB_EVENT_PATH is missing, unreadable or not the pull request it claims. */
class GitHubEventError extends errors/* ActionError */.lZ {
    constructor(eventPath, message) {
        super(`event payload ${eventPath}: ${message}`, { file: eventPath });
    }
}

;// CONCATENATED MODULE: ./src/adapters/github/pull-request-comment.ts



/** The pull-request comments through GitHub's REST API (`token` needs `pull-requests: write`). */
function createPullRequestComments(token, apiUrl) {
    return { upsertStickyComment: (pullRequest, marker, body) => upsertStickyComment({ token, apiUrl, ...pullRequest }, marker, body) };
}
/** GitHub's HTTP status, from Octokit's RequestError by shape (its class is a transitive dependency). */
function httpStatusOf(error) {
    const { status, response } = (error ?? {});
    // Octokit reports an unreachable server as status 500 with no response; that is no HTTP answer at all.
    return typeof status === 'number' && response !== undefined ? status : undefined;
}
/** Whether one of a comment's lines is exactly the marker; a reply quoting it ("> <!-- … -->") is not ours. */
function carriesMarker(body, marker) {
    return (body ?? '').split(/\r?\n/).some(line => line.trimEnd() === marker);
}
/**
 * Keeps one comment per marker on the pull request: updates the comment carrying `marker` in place, or creates
 * it. A read-only token (fork or Dependabot pull request) gives `forbidden` instead of an error.
 */
async function upsertStickyComment(target, marker, body) {
    const octokit = (0,github/* getOctokit */.Q)(target.token, { baseUrl: target.apiUrl });
    const issue = { owner: target.owner, repo: target.repo, issue_number: target.issueNumber };
    // Without the marker the next run could not find this comment and would add another.
    const text = carriesMarker(body, marker) ? body : `${marker}\n${body}`;
    let operation = `list comments of ${target.owner}/${target.repo}#${target.issueNumber}`;
    try {
        let existing;
        // The iterator follows the Link header page by page and stops as soon as the comment is found.
        for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, { ...issue, per_page: target.perPage ?? 100 })) {
            existing = page.data.find(comment => carriesMarker(comment.body, marker))?.id;
            if (existing !== undefined)
                break;
        }
        if (existing !== undefined) {
            operation = `update comment ${existing} on ${target.owner}/${target.repo}#${target.issueNumber}`;
            const { data } = await octokit.rest.issues.updateComment({ owner: target.owner, repo: target.repo, comment_id: existing, body: text });
            return { status: 'updated', url: data.html_url };
        }
        operation = `create a comment on ${target.owner}/${target.repo}#${target.issueNumber}`;
        const { data } = await octokit.rest.issues.createComment({ ...issue, body: text });
        return { status: 'created', url: data.html_url };
    }
    catch (error) {
        const status = httpStatusOf(error);
        // GitHub's own message, with the token hidden in case a proxy or server ever echoes it.
        const message = (0,secrets/* maskSecrets */.Q)(error instanceof Error ? error.message : String(error), [target.token]).split('\n')[0];
        if (status === 403 || status === 404)
            return { status: 'forbidden', httpStatus: status, message };
        throw new GitHubApiError(operation, status, message);
    }
}


/***/ })

};
