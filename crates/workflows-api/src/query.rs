//! Query strings: parsed once, every value checked, and the page links built from them.

use crate::error::{ApiError, ApiResult};
use actix_web::HttpRequest;
use std::str::FromStr;
use workflows_domain::{DEFAULT_PAGE_SIZE, Page, PageError, PageRequest};

/// The query parameters of a request, in order.
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    pub fn from_request(req: &HttpRequest) -> ApiResult<Self> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
            .map_err(|_| ApiError::BadRequest("The query string is malformed.".to_owned()))?;
        if let Some((key, _)) = pairs.iter().find(|(_, v)| v.contains('\0')) {
            return Err(ApiError::field(key, "Null characters are not allowed."));
        }
        Ok(Self { pairs })
    }

    /// The last value given for `key`, as sent (possibly empty).
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The last value given for `key`, if not empty: an empty text filter is no filter, as
    /// django-filter reads it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.raw(key).filter(|v| !v.is_empty())
    }

    /// A text filter.
    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }

    /// An integer that must parse (`5` or `5.0`, as DRF reads integers); an empty or malformed
    /// value is a 400 naming the parameter, as the published schema says it is an integer.
    pub fn integer<T: FromStr>(&self, key: &str, message: &str) -> ApiResult<Option<T>> {
        self.raw(key)
            .map(|v| {
                let whole = match v.split_once('.') {
                    Some((int, zeros)) if zeros.bytes().all(|b| b == b'0') => int,
                    _ => v,
                };
                whole
                    .parse::<T>()
                    .map_err(|_| ApiError::field(key, message))
            })
            .transpose()
    }

    /// A boolean filter: `true`/`false`, `1`/`0`, `True`/`False`.
    pub fn boolean(&self, key: &str) -> ApiResult<Option<bool>> {
        self.raw(key)
            .map(|v| match v {
                "true" | "True" | "1" => Ok(true),
                "false" | "False" | "0" => Ok(false),
                _ => Err(ApiError::field(
                    key,
                    "Enter a valid boolean: true or false.",
                )),
            })
            .transpose()
    }

    /// An ordering; an unknown one is a 400 naming `ordering`.
    pub fn ordering<T>(&self) -> ApiResult<T>
    where
        T: FromStr + Default,
        T::Err: std::fmt::Display,
    {
        match self.get("ordering") {
            None => Ok(T::default()),
            Some(v) => v
                .parse()
                .map_err(|e: T::Err| ApiError::field("ordering", e.to_string())),
        }
    }

    /// `page` (not a positive integer: 404 "Invalid page.") and `page_size` (1–100, else 400).
    pub fn page_request(&self) -> ApiResult<PageRequest> {
        let page = match self.raw("page") {
            None => 1,
            Some(v) => v.parse::<u64>().map_err(|_| ApiError::InvalidPage)?,
        };
        let page_size = self
            .integer::<u64>(
                "page_size",
                "Ensure this value is an integer between 1 and 100.",
            )?
            .unwrap_or(DEFAULT_PAGE_SIZE);
        PageRequest::new(page, page_size).map_err(|e| match e {
            PageError::InvalidPage => ApiError::InvalidPage,
            PageError::InvalidPageSize => ApiError::field("page_size", e.to_string()),
        })
    }

    /// Absolute `next` and `previous` links that keep every other parameter.
    pub fn page_links<T>(
        &self,
        req: &HttpRequest,
        page: &Page<T>,
    ) -> (Option<String>, Option<String>) {
        let link = |number: u64| {
            let mut pairs = vec![
                ("page".to_owned(), number.to_string()),
                ("page_size".to_owned(), page.request.page_size().to_string()),
            ];
            pairs.extend(
                self.pairs
                    .iter()
                    .filter(|(k, _)| k != "page" && k != "page_size")
                    .cloned(),
            );
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            format!(
                "{}?{query}",
                // Routed paths end with their slash (`trailing_slash`).
                absolute_url(req, req.path())
            )
        };
        let next = page.has_next().then(|| link(page.request.page() + 1));
        let previous = page.has_previous().then(|| link(page.request.page() - 1));
        (next, previous)
    }
}

/// `scheme://host` + path, as the client reached the service.
pub fn absolute_url(req: &HttpRequest, path: &str) -> String {
    let info = req.connection_info();
    format!("{}://{}{}", info.scheme(), info.host(), path)
}
