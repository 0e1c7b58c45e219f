export const id = 715;
export const ids = [715];
export const modules = {

/***/ 4715:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   createPullRequestComments: () => (/* binding */ createPullRequestComments),
/* harmony export */   upsertStickyComment: () => (/* binding */ upsertStickyComment)
/* harmony export */ });
/* harmony import */ var _actions_github__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(2413);
/* harmony import */ var _core_secrets_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(8198);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(4807);



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
    const octokit = (0,_actions_github__WEBPACK_IMPORTED_MODULE_0__/* .getOctokit */ .Q)(target.token, { baseUrl: target.apiUrl });
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
        const message = (0,_core_secrets_js__WEBPACK_IMPORTED_MODULE_2__/* .maskSecrets */ .Q)(error instanceof Error ? error.message : String(error), [target.token]).split('\n')[0];
        if (status === 403 || status === 404)
            return { status: 'forbidden', httpStatus: status, message };
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .GitHubApiError */ .O(operation, status, message);
    }
}


/***/ })

};
