"""The AWS side of imagescan: the logic of the Lambda functions of the scan pipeline (``template.yaml``).

ECR push → ``on_push`` (:mod:`.trigger`) starts one Step Functions execution per image → ``resolve_image``,
``analyze_layer`` (one invocation per layer, results cached in S3 by cache key), ``assemble`` (one per platform)
and ``publish`` (:mod:`.pipeline`, :mod:`.publish`); ``db_refresh`` (:mod:`.dbrefresh`) keeps the vulnerability
database in S3. The functions under ``functions/`` are thin handlers over these modules.
"""
